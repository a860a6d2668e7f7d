//! Sites from a CSV file into a bulk request: the lab's "bulk upload".
//!
//! The first line names the columns (any order, case-insensitive): `name` and
//! `multimediaProfileId` are required; `active` (`true`/`false`/`yes`/`no`/`1`/`0`, default
//! true), `description`, `id`, `version` and `requestAction` (`SAVE` or `DELETE`, default
//! SAVE) are optional. An unknown column is an error rather than silently dropped data.
//! Each item's `itemIdentifier` is its line number, so the 207 results point back at lines.
//! Every bad row is reported with its line number, and then nothing is sent.

use crate::error::{Error, RowError};
use crate::model::{BulkAction, BulkItem, BulkRequest, Site};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Profile,
    Active,
    Description,
    Id,
    Version,
    Action,
}

impl Column {
    fn parse(header: &str) -> Option<Self> {
        Some(match header.trim().to_ascii_lowercase().as_str() {
            "name" => Self::Name,
            "multimediaprofileid" => Self::Profile,
            "active" => Self::Active,
            "description" => Self::Description,
            "id" => Self::Id,
            "version" => Self::Version,
            "requestaction" => Self::Action,
            _ => return None,
        })
    }
}

/// Reads all records with their line numbers.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, Error> {
    let mut reader = csv_core::Reader::new();
    let mut input = text.as_bytes();
    let mut out = Vec::new();
    let mut field = vec![0u8; 4096];
    let mut ends = vec![0usize; 64];
    let (mut used, mut nends) = (0, 0);
    let (mut consumed, mut line) = (0, 1);
    let (mut counted, mut newlines) = (0, 0);
    loop {
        if used == 0 && nends == 0 {
            // A record starts here: its line is 1 + the newlines before its first character.
            let bytes = text.as_bytes();
            let skip = bytes[consumed..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            let start = consumed + skip;
            newlines += bytes[counted..start].iter().filter(|b| **b == b'\n').count();
            counted = start;
            line = 1 + newlines;
        }
        let (result, nin, nout, nend) = reader.read_record(input, &mut field[used..], &mut ends[nends..]);
        input = &input[nin..];
        consumed += nin;
        used += nout;
        nends += nend;
        match result {
            csv_core::ReadRecordResult::InputEmpty => continue,
            csv_core::ReadRecordResult::OutputFull => field.resize(field.len() * 2, 0),
            csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            csv_core::ReadRecordResult::Record => {
                let mut start = 0;
                let mut fields = Vec::with_capacity(nends);
                for &end in &ends[..nends] {
                    let value = std::str::from_utf8(&field[start..end]).map_err(|_| {
                        Error::Csv(vec![RowError { line, message: "not valid UTF-8".into() }])
                    })?;
                    fields.push(value.to_owned());
                    start = end;
                }
                // Blank lines are skipped.
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    out.push((line, fields));
                }
                used = 0;
                nends = 0;
            }
            csv_core::ReadRecordResult::End => return Ok(out),
        }
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "y" => Some(true),
        "false" | "no" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// Parses a sites CSV into a bulk request; every bad row is reported, by line.
pub fn sites_bulk_request(text: &str) -> Result<BulkRequest, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = records(text)?.into_iter();
    let Some((header_line, header)) = rows.next() else {
        return Err(Error::Csv(vec![RowError {
            line: 1,
            message: "empty file: expected a header line".into(),
        }]));
    };
    let mut columns = Vec::with_capacity(header.len());
    let mut errors = Vec::new();
    for name in &header {
        match Column::parse(name) {
            Some(c) if columns.contains(&c) => {
                errors.push(RowError { line: header_line, message: format!("column `{}` appears twice", name.trim()) })
            }
            Some(c) => columns.push(c),
            None => errors.push(RowError {
                line: header_line,
                message: format!(
                    "unknown column `{}` (known: name, multimediaProfileId, active, description, id, version, requestAction)",
                    name.trim()
                ),
            }),
        }
    }
    for required in [(Column::Name, "name"), (Column::Profile, "multimediaProfileId")] {
        if !columns.contains(&required.0) {
            errors.push(RowError { line: header_line, message: format!("missing column `{}`", required.1) });
        }
    }
    if !errors.is_empty() {
        return Err(Error::Csv(errors));
    }

    let mut items = Vec::new();
    for (line, fields) in rows {
        match site_row(&columns, &fields) {
            Ok((item, request_action)) => items.push(BulkItem {
                item_identifier: i64::try_from(line).unwrap_or(i64::MAX),
                item,
                request_action,
            }),
            Err(message) => errors.push(RowError { line, message }),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Csv(errors));
    }
    Ok(BulkRequest { items })
}

fn site_row(columns: &[Column], fields: &[String]) -> Result<(Site, BulkAction), String> {
    if fields.len() != columns.len() {
        return Err(format!("expected {} fields, found {}", columns.len(), fields.len()));
    }
    let mut site = Site::new("", "");
    let mut action = BulkAction::Save;
    for (column, raw) in columns.iter().zip(fields) {
        let value = raw.trim();
        match column {
            Column::Name => site.name = value.to_owned(),
            Column::Profile => site.multimedia_profile_id = value.to_owned(),
            Column::Active if value.is_empty() => {}
            Column::Active => {
                site.active =
                    parse_bool(value).ok_or_else(|| format!("active: {value:?} is not true or false"))?
            }
            Column::Description => site.description = (!value.is_empty()).then(|| value.to_owned()),
            Column::Id => site.id = (!value.is_empty()).then(|| value.to_owned()),
            Column::Version if value.is_empty() => {}
            Column::Version => {
                site.version = Some(value.parse().map_err(|_| format!("version: {value:?} is not a number"))?)
            }
            Column::Action if value.is_empty() => {}
            Column::Action => {
                action = match BulkAction::parse(&value.to_ascii_uppercase()) {
                    BulkAction::Unknown(_) => {
                        return Err(format!("requestAction: {value:?} is not SAVE or DELETE"));
                    }
                    known => known,
                }
            }
        }
    }
    if action == BulkAction::Delete {
        if site.id.is_none() {
            return Err("requestAction DELETE needs an id".into());
        }
    } else {
        site.validate()?;
    }
    Ok((site, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_items_numbered_by_line() {
        let csv = "name,multimediaProfileId,active,description\r\n\
                   Austin,mm-1,true,\"Main, with comma\"\r\n\
                   \r\n\
                   Berlin,mm-2,no,\n";
        let req = sites_bulk_request(csv).unwrap();
        assert_eq!(req.items.len(), 2);
        assert_eq!(req.items[0].item_identifier, 2);
        assert_eq!(req.items[0].item.description.as_deref(), Some("Main, with comma"));
        assert_eq!(req.items[1].item_identifier, 4);
        assert!(!req.items[1].item.active);
        assert_eq!(req.items[1].request_action, BulkAction::Save);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let csv = "Name,MultimediaProfileId,active,version,requestAction\n\
                   ok,mm,true,,\n\
                   bad/name,mm,true,,\n\
                   x,mm,maybe,,\n\
                   y,mm,true,v2,\n\
                   ,,,,DELETE\n\
                   short,mm\n";
        let Err(Error::Csv(errors)) = sites_bulk_request(csv) else { panic!("expected CSV errors") };
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7], "{errors:?}");
        assert!(errors[0].message.starts_with("name:"), "{}", errors[0]);
        assert!(errors[1].message.starts_with("active:"));
        assert!(errors[2].message.starts_with("version:"));
        assert!(errors[3].message.contains("DELETE needs an id"));
        assert!(errors[4].message.contains("expected 5 fields"));
    }

    #[test]
    fn header_problems_are_named() {
        let Err(Error::Csv(errors)) = sites_bulk_request("name,profile\nA,b\n") else { panic!() };
        assert!(errors[0].message.contains("unknown column `profile`"));
        assert!(errors[1].message.contains("missing column `multimediaProfileId`"));
        assert!(matches!(sites_bulk_request(""), Err(Error::Csv(_))));
    }
}
