//! Streaming CSV decoding: feed bytes as they arrive, take records as they complete. Memory
//! holds one record at a time, whatever the size of the result.
//!
//! RFC 4180 quoting (commas, quotes and newlines inside quoted fields), CRLF or LF line ends,
//! a UTF-8 byte-order mark, empty cells and the literal `null` (read as absent by
//! [`Record`]'s getters). The first row names the columns. A row with more cells than the
//! header keeps the extras as `column_<n>`; a row with fewer leaves the rest absent.

use std::collections::{BTreeMap, VecDeque};

use csv_core::{ReadRecordResult, Reader};
use serde_json::Value;

use crate::model::Record;

/// A malformed CSV result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("CSV row {row}: {message}")]
pub struct CsvError {
    /// 1-based row number (the header is row 1).
    pub row: u64,
    /// What is wrong.
    pub message: String,
}

/// Decodes CSV incrementally into [`Record`]s.
pub struct CsvDecoder {
    reader: Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    header: Option<Vec<String>>,
    rows: u64,
    ready: VecDeque<Record>,
    max_record_bytes: usize,
    finished: bool,
}

impl std::fmt::Debug for CsvDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvDecoder")
            .field("rows", &self.rows)
            .field("columns", &self.header)
            .finish_non_exhaustive()
    }
}

impl Default for CsvDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvDecoder {
    /// A decoder accepting records up to 16 MiB.
    pub fn new() -> Self {
        Self {
            reader: Reader::new(),
            output: vec![0; 4096],
            ends: vec![0; 64],
            out_len: 0,
            ends_len: 0,
            header: None,
            rows: 0,
            ready: VecDeque::new(),
            max_record_bytes: 16 * 1024 * 1024,
            finished: false,
        }
    }

    /// Decodes a whole CSV document.
    pub fn decode_all(bytes: &[u8]) -> Result<Vec<Record>, CsvError> {
        let mut decoder = Self::new();
        decoder.feed(bytes)?;
        decoder.finish()?;
        Ok(decoder.ready.drain(..).collect())
    }

    /// The column names, once the header row was read.
    pub fn columns(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// Feeds the next bytes; completed records become available from [`CsvDecoder::next_record`].
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), CsvError> {
        while !input.is_empty() {
            let consumed = self.step(input)?;
            input = &input[consumed..];
        }
        Ok(())
    }

    /// Signals the end of input; the last record (without a trailing newline) completes.
    pub fn finish(&mut self) -> Result<(), CsvError> {
        while !self.finished {
            self.step(&[])?;
        }
        Ok(())
    }

    /// The next completed record.
    pub fn next_record(&mut self) -> Option<Record> {
        self.ready.pop_front()
    }

    /// Runs the parser once over `input`; returns the bytes consumed.
    fn step(&mut self, input: &[u8]) -> Result<usize, CsvError> {
        let (result, n_in, n_out, n_ends) =
            self.reader.read_record(input, &mut self.output[self.out_len..], &mut self.ends[self.ends_len..]);
        self.out_len += n_out;
        self.ends_len += n_ends;
        match result {
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::OutputFull => {
                if self.output.len() >= self.max_record_bytes {
                    return Err(self.error(format!("record exceeds {} bytes", self.max_record_bytes)));
                }
                let grown = (self.output.len() * 2).min(self.max_record_bytes);
                self.output.resize(grown, 0);
            }
            ReadRecordResult::OutputEndsFull => {
                let grown = self.ends.len() * 2;
                self.ends.resize(grown, 0);
            }
            ReadRecordResult::Record => self.complete_record()?,
            // Only empty input means end of input. (csv-core also answers End to a first chunk
            // that holds nothing but a byte-order mark, after consuming it.)
            ReadRecordResult::End if input.is_empty() => self.finished = true,
            ReadRecordResult::End if n_in == 0 => {
                return Err(self.error("CSV parser made no progress".into()));
            }
            ReadRecordResult::End => {}
        }
        Ok(n_in)
    }

    fn complete_record(&mut self) -> Result<(), CsvError> {
        let mut fields = Vec::with_capacity(self.ends_len);
        let mut start = 0;
        for &end in &self.ends[..self.ends_len] {
            let bytes = &self.output[start..end];
            let text = std::str::from_utf8(bytes).map_err(|e| self.error(format!("not UTF-8: {e}")))?;
            fields.push(text.to_owned());
            start = end;
        }
        self.out_len = 0;
        self.ends_len = 0;
        self.rows += 1;
        match &self.header {
            None => {
                // A UTF-8 byte-order mark ends up at the start of the first column name.
                if let Some(first) = fields.first_mut() {
                    *first = first.trim_start_matches('\u{feff}').to_owned();
                }
                self.header = Some(fields);
            }
            Some(header) => {
                // A blank line inside the data is not a record.
                if fields.len() == 1 && fields[0].is_empty() {
                    return Ok(());
                }
                let mut map = BTreeMap::new();
                for (i, value) in fields.into_iter().enumerate() {
                    let name = header.get(i).cloned().unwrap_or_else(|| format!("column_{}", i + 1));
                    map.insert(name, Value::String(value));
                }
                self.ready.push_back(Record::from_fields(map));
            }
        }
        Ok(())
    }

    fn error(&self, message: String) -> CsvError {
        CsvError { row: self.rows + 1, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\u{feff}sid,ani__s,note__s,talkDuration__l\r\n\
        s1,\"+1, 555\",\"line one\nline \"\"two\"\"\",42\r\n\
        s2,null,,\r\n\
        s3,Zoë 👋,\"\",7,surplus";

    #[test]
    fn decodes_edge_cases() {
        let records = CsvDecoder::decode_all(DOC.as_bytes()).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].string("ani"), Some("+1, 555"));
        assert_eq!(records[0].string("note"), Some("line one\nline \"two\""));
        assert_eq!(records[0].long("talkDuration"), Some(42));
        assert_eq!(records[1].string("ani"), None, "literal null");
        assert_eq!(records[1].string("note"), None, "empty cell");
        assert_eq!(records[2].string("ani"), Some("Zoë 👋"));
        assert_eq!(records[2].raw("column_5"), Some(&Value::String("surplus".into())));
        assert_eq!(records[0].sid(), Some("s1"), "BOM stripped from the first column name");
    }

    #[test]
    fn any_chunking_gives_the_same_records() {
        let whole = CsvDecoder::decode_all(DOC.as_bytes()).unwrap();
        for chunk in [1, 2, 3, 7, 64] {
            let mut decoder = CsvDecoder::new();
            let mut got = Vec::new();
            for piece in DOC.as_bytes().chunks(chunk) {
                decoder.feed(piece).unwrap();
                got.extend(std::iter::from_fn(|| decoder.next_record()));
            }
            decoder.finish().unwrap();
            got.extend(std::iter::from_fn(|| decoder.next_record()));
            assert_eq!(got, whole, "chunk size {chunk}");
        }
    }

    #[test]
    fn invalid_utf8_names_the_row() {
        let err = CsvDecoder::decode_all(b"a,b\nok,\xff\n").unwrap_err();
        assert_eq!(err.row, 2);
        assert!(err.message.contains("UTF-8"), "{err}");
    }

    #[test]
    fn every_split_point_gives_the_same_records() {
        let whole = CsvDecoder::decode_all(DOC.as_bytes()).unwrap();
        let bytes = DOC.as_bytes();
        for cut in 0..=bytes.len() {
            let mut d = CsvDecoder::new();
            d.feed(&bytes[..cut]).unwrap();
            d.feed(&bytes[cut..]).unwrap();
            d.finish().unwrap();
            let got: Vec<Record> = std::iter::from_fn(|| d.next_record()).collect();
            assert_eq!(got, whole, "split at byte {cut}");
        }
    }

    #[test]
    fn empty_input_has_no_records() {
        assert!(CsvDecoder::decode_all(b"").unwrap().is_empty());
        assert!(CsvDecoder::decode_all(b"sid,cstts\n").unwrap().is_empty());
    }
}
