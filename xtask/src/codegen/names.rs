//! Rust names from spec names: types, fields, variants, modules.

/// Words split at case changes and non-alphanumeric characters: `getAllConfig_22` →
/// `get`, `All`, `Config`, `22`; `DTO_Name` → `DTO`, `Name`; `HTTPServer` → `HTTP`, `Server`.
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if p.is_ascii_alphanumeric() => {
                (c.is_ascii_uppercase() && (p.is_ascii_lowercase() || p.is_ascii_digit()))
                    || (c.is_ascii_uppercase()
                        && p.is_ascii_uppercase()
                        && next.is_some_and(|n| n.is_ascii_lowercase()))
                    || (c.is_ascii_digit() && p.is_ascii_alphabetic())
            }
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `UpperCamelCase`; each word's first letter raised, acronyms folded (`DTO` → `Dto`).
pub fn pascal(text: &str) -> String {
    let mut out = String::new();
    for word in words(text) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.is_empty() {
        out.push_str("Empty");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

/// `snake_case`, valid as a field or module name (`type` → `r#type`, `self` → `self_`).
pub fn snake(text: &str) -> String {
    let mut out = words(text).iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>().join("_");
    if out.is_empty() {
        out.push_str("value");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "n_");
    }
    match out.as_str() {
        "self" | "super" | "crate" | "extern" => format!("{out}_"),
        kw if is_keyword(kw) => format!("r#{out}"),
        _ => out,
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "dyn"
            | "else"
            | "enum"
            | "false"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "try"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
    )
}

/// Names the generated code uses unqualified; a spec type of that name gets a suffix.
pub const RESERVED_TYPES: &[&str] = &[
    "Option", "Result", "String", "Vec", "Box", "Value", "BTreeMap", "Error", "Some", "None", "Ok", "Err",
    "Self",
];

/// One line of documentation from spec prose: whitespace collapsed (no code blocks, no
/// indented blocks rustdoc would compile), brackets and angle brackets escaped (no intra-doc
/// links, no HTML).
pub fn doc_line(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(collapsed.len());
    for c in collapsed.chars() {
        match c {
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\''),
            '*' => out.push_str("\\*"),
            '_' => out.push_str("\\_"),
            '#' => out.push_str("\\#"),
            c => out.push(c),
        }
    }
    out
}

/// Rust string literal.
pub fn literal(text: &str) -> String {
    format!("{text:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(pascal("getAllConfig_22"), "GetAllConfig22");
        assert_eq!(pascal("AgentPersonalGreetingDTO_Tag"), "AgentPersonalGreetingDtoTag");
        assert_eq!(pascal("List Address Book(s)"), "ListAddressBookS");
        assert_eq!(pascal("2fa"), "N2fa");
        assert_eq!(snake("pageSize"), "page_size");
        assert_eq!(snake("HTTPServer"), "http_server");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("X-ORGANIZATION-ID"), "x_organization_id");
        assert_eq!(snake("_links"), "links");
        assert_eq!(snake("@type"), "r#type");
        assert_eq!(
            doc_line("See [docs](x) <b>bold</b>\n\n    code"),
            "See \\[docs\\](x) &lt;b&gt;bold&lt;/b&gt; code"
        );
    }
}
