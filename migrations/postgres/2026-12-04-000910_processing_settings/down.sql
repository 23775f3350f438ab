DROP TABLE simulator_settings;
DROP TABLE processing_settings;
