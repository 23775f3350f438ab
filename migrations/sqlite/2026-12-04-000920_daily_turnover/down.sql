DROP TABLE merchant_daily_turnover;
