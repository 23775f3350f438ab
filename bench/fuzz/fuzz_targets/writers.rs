//! The web services' XML and CSV writers, with any text in the values (customer names,
//! comments and order numbers come from shops and customers): the XML must parse and give the
//! values back, the CSV must split into the same cells.
#![no_main]

use kassa::web::services::answer::{Row, csv, xml_records};
use libfuzzer_sys::fuzz_target;

const KEYS: [&str; 4] = ["ordernumber", "comment", "lastname", "message"];

fuzz_target!(|values: Vec<[String; 4]>| {
    let rows: Vec<Row> = values.iter().map(|v| KEYS.iter().copied().zip(v.iter().cloned()).collect()).collect();

    let xml = xml_records("order", &rows);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("XML does not parse ({e}): {xml:?}"));
    let orders: Vec<_> = doc.root_element().children().filter(|n| n.has_tag_name("order")).collect();
    assert_eq!(orders.len(), rows.len());
    for (node, row) in orders.iter().zip(&rows) {
        for (key, value) in row {
            let got = node.children().find(|n| n.has_tag_name(*key)).and_then(|n| n.text()).unwrap_or("");
            assert_eq!(got, xml_text(value), "{key} in {xml:?}");
        }
    }

    let text = csv(&rows, &KEYS);
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(true).from_reader(text.as_bytes());
    let parsed: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("CSV parses")).collect();
    assert_eq!(parsed.len(), rows.len(), "{text:?}");
    for (record, row) in parsed.iter().zip(&rows) {
        let cells: Vec<&str> = record.iter().collect();
        let want: Vec<&str> = row.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(cells, want, "{text:?}");
    }
});

/// What an XML reader gets back for a value: XML 1.0 cannot carry most control characters or
/// U+FFFE/U+FFFF, which Kassa writes as U+FFFD; everything else, a carriage return included,
/// comes back as it was.
fn xml_text(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}
