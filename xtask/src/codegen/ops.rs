//! Operations → one request type each: parameters as fields (required ones in `new`), the body
//! typed, the answer decoded into the generated model. One module per tag.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, PathItem, ReferenceOr, RequestBody, Schema, SchemaKind,
    StatusCode, Type,
};

use super::areas;
use super::model::{Ty, Types, cfg};
use super::names::{doc_line, literal, pascal, snake};
use super::overrides;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loc {
    Path,
    Query,
    Header,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub rust: String,
    pub wire: String,
    pub location: Loc,
    pub ty: Ty,
    pub required: bool,
    pub doc: String,
    /// The organization id: `None` takes the client's.
    pub org: bool,
    /// The spec's example.
    pub example: Option<serde_json::Value>,
    /// A list sent as one comma-joined value (see `overrides::joined`).
    pub joined: bool,
}

#[derive(Clone, Debug)]
pub struct Part {
    pub rust: String,
    pub wire: String,
    pub ty: Ty,
    pub required: bool,
    pub doc: String,
}

#[derive(Clone, Debug)]
pub enum Body {
    Json { ty: Ty, required: bool, content_type: String },
    Multipart(Vec<Part>),
}

#[derive(Clone, Debug)]
pub enum Output {
    Json(Ty),
    /// A success that may come without a body.
    OptionalJson(Ty),
    Empty,
    Bytes,
}

#[derive(Clone, Debug)]
pub struct Operation {
    pub name: String,
    pub module: String,
    pub tag: String,
    pub area: &'static str,
    pub method: String,
    pub path: String,
    pub id: String,
    pub summary: String,
    pub doc: String,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub output: Output,
    pub success: Vec<u16>,
    pub paging: Option<Paging>,
    /// The spec's example of the request body and of the success answer.
    pub body_example: Option<serde_json::Value>,
    pub response_example: Option<serde_json::Value>,
}

/// Page-number paging: a `page` query parameter and a list in the answer.
#[derive(Clone, Debug)]
pub struct Paging {
    /// The `page` field.
    pub page: String,
    /// The element type.
    pub item: Ty,
    /// Where the list is: `None` when the answer is the list, else the field and whether it is
    /// optional.
    pub field: Option<(String, bool)>,
    /// An expression over `output` (`&Self::Output`) saying whether the answer announces a
    /// next page (`links.next`, `rel: next`), where the schema has such a member.
    pub next: Option<String>,
}

impl Operation {
    /// Every type the operation's request and answer mention.
    pub fn types(&self) -> Vec<Ty> {
        let mut out: Vec<Ty> = self.params.iter().map(|p| p.ty.clone()).collect();
        match &self.body {
            Some(Body::Json { ty, .. }) => out.push(ty.clone()),
            Some(Body::Multipart(parts)) => out.extend(parts.iter().map(|p| p.ty.clone())),
            None => {}
        }
        if let Output::Json(ty) | Output::OptionalJson(ty) = &self.output {
            out.push(ty.clone());
        }
        // The element type of a page is named by the `Paged` impl, also when the page type
        // is hand-written (whose members are not reached otherwise).
        if let Some(paging) = &self.paging {
            out.push(paging.item.clone());
        }
        out
    }

    pub fn body_ty(&self) -> Option<&Ty> {
        match &self.body {
            Some(Body::Json { ty, .. }) => Some(ty),
            _ => None,
        }
    }

    /// `GET /v1/tasks`: the key users and `cckit decode` name an operation by.
    pub fn key(&self) -> String {
        format!("{} {}", self.method.to_ascii_uppercase(), self.path)
    }

    /// Whether a failed attempt may be repeated: GET, PUT and DELETE by HTTP's definition,
    /// and the POSTs that only read (`overrides::POST_READS`).
    pub fn idempotent(&self) -> bool {
        !matches!(self.method.as_str(), "post" | "patch")
            || overrides::POST_READS.contains(&self.key().as_str())
    }
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

/// Every operation of the spec, in spec order.
pub fn collect(api: &OpenAPI, types: &mut Types) -> Result<Vec<Operation>, String> {
    let mut operations = Vec::new();
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, item) in &api.paths.paths {
        let ReferenceOr::Item(item) = item else {
            return Err(format!("{path}: path references are not supported"));
        };
        for method in METHODS {
            let Some(op) = operation_of(item, method) else { continue };
            let tag = op.tags.first().cloned().unwrap_or_else(|| "Untagged".into());
            let area = areas::area(&tag, method, path).ok_or_else(|| {
                format!(
                    "{} {path}: tag `{tag}` has no area in xtask/src/codegen/areas.rs",
                    method.to_ascii_uppercase()
                )
            })?;
            let module = snake(&tag.replace(" - ", " ").replace('&', " and ").replace(" API", ""));
            let id = op.operation_id.clone().unwrap_or_else(|| format!("{method}{path}"));
            let summary = op.summary.clone().unwrap_or_else(|| id.clone());
            let name = op_name(&summary, path, &id, names.entry(module.clone()).or_default());
            let mut params = Vec::new();
            let mut all_params: Vec<&ReferenceOr<Parameter>> = item.parameters.iter().collect();
            all_params.extend(op.parameters.iter());
            for param in all_params {
                let param = resolve_param(api, param)?;
                if let Some(p) = convert_param(types, &name, param)
                    && !params.iter().any(|q: &Param| q.wire == p.wire && q.location == p.location)
                {
                    params.push(p);
                }
            }
            dedupe_fields(&mut params);
            let (body, body_example) = match &op.request_body {
                Some(body) => {
                    let body = resolve_body(api, body)?;
                    let example = body.content.values().find_map(media_example);
                    (convert_body(types, &name, body, &params)?, example)
                }
                None => (None, None),
            };
            let (mut output, success, response_example) = convert_output(types, &name, &op.responses);
            let key = format!("{} {path}", method.to_ascii_uppercase());
            if let Some((_, model)) = overrides::HAND_WRITTEN_OUTPUTS.iter().find(|(k, _)| *k == key) {
                let hand = overrides::HandWritten { schema: model, model, default: false, extra: false };
                output = Output::Json(types.hand_written_output(&format!("{name}Response"), hand));
            }
            let doc = op.description.as_deref().map(doc_line).unwrap_or_default();
            let paging = paging(types, &params, &output);
            operations.push(Operation {
                name,
                module,
                tag,
                area,
                method: (*method).to_owned(),
                path: path.clone(),
                id,
                summary,
                doc,
                params,
                body,
                output,
                success,
                paging,
                body_example,
                response_example,
            });
        }
    }
    Ok(operations)
}

fn paging(types: &Types, params: &[Param], output: &Output) -> Option<Paging> {
    let page = params.iter().find(|p| p.wire == "page" && p.location == Loc::Query && p.ty == Ty::I64)?;
    let Output::Json(ty) = output else { return None };
    let (item, field, next) = match ty {
        Ty::Vec(item) => ((**item).clone(), None, None),
        Ty::Named(name) => {
            let def = types.defs.get(name)?;
            let super::model::Def::Struct { fields, .. } = &def.def else { return None };
            // `data` in most answers, `resources` in the bulk exports.
            let list = ["data", "resources"]
                .iter()
                .find_map(|wire| fields.iter().find(|f| f.wire == *wire && !f.boxed))?;
            let Ty::Vec(item) = &list.ty else { return None };
            // The hand-written page types hold the list as a plain `Vec`, and their members
            // are not the generated ones: no next-page expression is derived for them.
            let optional = !list.required && def.model.is_none();
            let next = if def.model.is_none() { next_page(types, fields) } else { None };
            ((**item).clone(), Some((list.rust.clone(), optional)), next)
        }
        _ => return None,
    };
    Some(Paging { page: page.rust.clone(), item, field, next })
}

/// How an answer with `fields` says whether a next page exists: `rel` (`"next"` while there
/// is one), else `links.next` directly or under `meta`. Each step may be optional.
fn next_page(types: &Types, fields: &[super::model::Field]) -> Option<String> {
    use super::model::{Def, Field};
    let step = |expr: String, field: &Field| {
        if field.required {
            format!("{expr}.map(|v| &v.{})", field.rust)
        } else {
            format!("{expr}.and_then(|v| v.{}.as_ref())", field.rust)
        }
    };
    let struct_fields = |field: &Field| match &field.ty {
        Ty::Named(name) => match types.defs.get(name) {
            Some(d) if d.model.is_none() => match &d.def {
                Def::Struct { fields, .. } => Some(fields.clone()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    if let Some(rel) = fields.iter().find(|f| f.wire == "rel" && f.ty == Ty::Str) {
        return Some(format!("{}.map(|rel| rel == \"next\")", step("Some(output)".into(), rel)));
    }
    let links_next = |expr: String, fields: &[Field]| {
        let links = fields.iter().find(|f| f.wire == "links")?;
        let inner = struct_fields(links)?;
        let next = inner.iter().find(|f| f.wire == "next" && f.ty == Ty::Str)?;
        let at = step(expr, links);
        Some(if next.required {
            format!("{at}.map(|links| !links.{}.is_empty())", next.rust)
        } else {
            format!("{at}.map(|links| links.{}.is_some())", next.rust)
        })
    };
    if let Some(expr) = links_next("Some(output)".into(), fields) {
        return Some(expr);
    }
    let meta = fields.iter().find(|f| f.wire == "meta")?;
    let inner = struct_fields(meta)?;
    links_next(step("Some(output)".into(), meta), &inner)
}

fn operation_of<'a>(item: &'a PathItem, method: &str) -> Option<&'a openapiv3::Operation> {
    match method {
        "get" => item.get.as_ref(),
        "put" => item.put.as_ref(),
        "post" => item.post.as_ref(),
        "delete" => item.delete.as_ref(),
        "patch" => item.patch.as_ref(),
        _ => None,
    }
}

/// A name from the summary (`Get specific Address Book by ID` → `GetAddressBookById`), made
/// unique in its module by the path's version (`V2`) or the operation id.
fn op_name(summary: &str, path: &str, id: &str, taken: &mut BTreeSet<String>) -> String {
    let cleaned: Vec<&str> = summary
        .split_whitespace()
        .filter(|w| !matches!(w.to_ascii_lowercase().as_str(), "a" | "an" | "the" | "new" | "specific"))
        .collect();
    let base = pascal(&cleaned.join(" ").replace("(s)", "s").replace("(es)", "es"));
    let version = path
        .split('/')
        .find(|s| s.len() == 2 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit()));
    let mut candidates = vec![base.clone()];
    if let Some(v) = version {
        candidates.push(format!("{base}{}", v.to_ascii_uppercase()));
    }
    candidates.push(format!("{base}{}", pascal(id)));
    for candidate in candidates {
        if taken.insert(candidate.clone()) {
            return candidate;
        }
    }
    let mut n = 2;
    loop {
        let candidate = format!("{base}{n}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

fn resolve_param<'a>(api: &'a OpenAPI, param: &'a ReferenceOr<Parameter>) -> Result<&'a Parameter, String> {
    match param {
        ReferenceOr::Item(p) => Ok(p),
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/parameters/");
            match api.components.as_ref().and_then(|c| c.parameters.get(name)) {
                Some(ReferenceOr::Item(p)) => Ok(p),
                _ => Err(format!("parameter {reference} does not resolve")),
            }
        }
    }
}

fn resolve_body<'a>(api: &'a OpenAPI, body: &'a ReferenceOr<RequestBody>) -> Result<&'a RequestBody, String> {
    match body {
        ReferenceOr::Item(b) => Ok(b),
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/requestBodies/");
            match api.components.as_ref().and_then(|c| c.request_bodies.get(name)) {
                Some(ReferenceOr::Item(b)) => Ok(b),
                _ => Err(format!("request body {reference} does not resolve")),
            }
        }
    }
}

fn convert_param(types: &mut Types, op: &str, param: &Parameter) -> Option<Param> {
    let (data, location) = match param {
        Parameter::Path { parameter_data, .. } => (parameter_data, Loc::Path),
        Parameter::Query { parameter_data, .. } => (parameter_data, Loc::Query),
        Parameter::Header { parameter_data, .. } => (parameter_data, Loc::Header),
        Parameter::Cookie { .. } => return None,
    };
    // The client sends these itself.
    if location == Loc::Header
        && matches!(data.name.to_ascii_lowercase().as_str(), "trackingid" | "content-length")
    {
        return None;
    }
    let ty = match &data.format {
        ParameterSchemaOrContent::Schema(schema) => {
            overrides::typed_id(&data.name, types.of(schema, &format!("{op}{}", pascal(&data.name))))
        }
        ParameterSchemaOrContent::Content(_) => Ty::Json,
    };
    let org = matches!(data.name.as_str(), "orgid" | "orgId" | "X-ORGANIZATION-ID") && ty == Ty::Str;
    let joined = location == Loc::Query
        && matches!(ty, Ty::Vec(_))
        && overrides::joined(data.explode, data.description.as_deref());
    let example = data.example.clone().or_else(|| match &data.format {
        ParameterSchemaOrContent::Schema(ReferenceOr::Item(s)) => s.schema_data.example.clone(),
        _ => None,
    });
    let doc = data
        .description
        .as_deref()
        .map(doc_line)
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| format!("`{}`.", data.name));
    Some(Param {
        rust: snake(&data.name),
        wire: data.name.clone(),
        location: location.clone(),
        ty,
        // Path parameters are always required, whatever the spec says.
        required: data.required || location == Loc::Path,
        doc,
        org,
        example,
        joined,
    })
}

fn dedupe_fields(params: &mut [Param]) {
    let mut seen = BTreeSet::new();
    for p in params.iter_mut() {
        let base = p.rust.trim_start_matches("r#").to_owned();
        let mut n = 2;
        while !seen.insert(p.rust.clone()) || p.rust == "body" {
            p.rust = format!("{base}_{n}");
            n += 1;
        }
    }
}

fn convert_body(
    types: &mut Types,
    op: &str,
    body: &RequestBody,
    params: &[Param],
) -> Result<Option<Body>, String> {
    if let Some(media) = body.content.get("multipart/form-data") {
        let Some(ReferenceOr::Item(schema)) = &media.schema else { return Ok(None) };
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else { return Ok(None) };
        let mut parts = Vec::new();
        for (wire, schema) in &object.properties {
            let ty = match schema {
                ReferenceOr::Reference { reference } => types.reference(reference),
                ReferenceOr::Item(s) => {
                    types.of(&ReferenceOr::Item((**s).clone()), &format!("{op}{}", pascal(wire)))
                }
            };
            let doc = match schema {
                ReferenceOr::Item(s) => s.schema_data.description.as_deref().map(doc_line),
                _ => None,
            }
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| format!("The `{wire}` part."));
            let mut rust = snake(wire);
            if params.iter().any(|p| p.rust == rust) {
                rust = format!("{}_part", rust.trim_start_matches("r#"));
            }
            parts.push(Part { rust, wire: wire.clone(), ty, required: object.required.contains(wire), doc });
        }
        return Ok(Some(Body::Multipart(parts)));
    }
    let Some((content_type, media)) = body.content.iter().next() else { return Ok(None) };
    let ty = match &media.schema {
        Some(schema) => types.of(schema, &format!("{op}Body")),
        None => Ty::Json,
    };
    let content_type =
        if content_type.contains("json-patch") { content_type.clone() } else { "application/json".into() };
    Ok(Some(Body::Json { ty, required: body.required, content_type }))
}

/// A media type's example: `example`, else the first of `examples`.
fn media_example(media: &openapiv3::MediaType) -> Option<serde_json::Value> {
    media.example.clone().or_else(|| {
        media.examples.values().find_map(|e| match e {
            ReferenceOr::Item(e) => e.value.clone(),
            ReferenceOr::Reference { .. } => None,
        })
    })
}

fn convert_output(
    types: &mut Types,
    op: &str,
    responses: &openapiv3::Responses,
) -> (Output, Vec<u16>, Option<serde_json::Value>) {
    let mut success = Vec::new();
    let mut schema: Option<ReferenceOr<Schema>> = None;
    let mut example = None;
    let mut empty = false;
    for (code, response) in &responses.responses {
        let StatusCode::Code(code) = *code else { continue };
        if !(200..300).contains(&code) {
            continue;
        }
        success.push(code);
        let ReferenceOr::Item(response) = response else { continue };
        let found = response.content.values().find_map(|m| m.schema.clone().map(|s| (s, media_example(m))));
        match found {
            Some((s, e)) if schema.is_none() => {
                schema = Some(s);
                example = e;
            }
            Some(_) => {}
            None => empty = true,
        }
    }
    let output = match schema {
        None => Output::Empty,
        Some(schema) => {
            let binary = matches!(&schema, ReferenceOr::Item(s) if matches!(&s.schema_kind, SchemaKind::Type(Type::String(t)) if matches!(t.format, openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary))));
            if binary {
                Output::Bytes
            } else {
                let mut ty = types.of(&schema, &format!("{op}Response"));
                // A JSON answer whose schema says "string" but whose example is an object or a
                // list (the search API's): the schema is wrong, the example shows the wire.
                let schema_example = match &schema {
                    ReferenceOr::Item(s) => s.schema_data.example.as_ref(),
                    ReferenceOr::Reference { .. } => None,
                };
                if ty == Ty::Str
                    && example.as_ref().or(schema_example).is_some_and(|e| e.is_object() || e.is_array())
                {
                    ty = Ty::Json;
                }
                if empty { Output::OptionalJson(ty) } else { Output::Json(ty) }
            }
        }
    };
    (output, success, example)
}

/// `(file, text)` for every generated operations file, relative to the `api` module.
pub fn emit(operations: &[Operation], types: &Types) -> Vec<(String, String)> {
    let mut by_module: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in operations {
        by_module.entry(op.module.as_str()).or_default().push(op);
    }
    let mut files = Vec::new();
    let mut index = String::from(
        "//! The operations of the spec, one module per tag; each operation is a request type that\n//! `WxccClient::call` sends. [`operations`] lists those the enabled features compile.\n\nuse super::OperationInfo;\n#[allow(unused_imports)]\nuse super::Operation as _;\n\n",
    );
    for (module, ops) in &by_module {
        let areas: BTreeSet<&'static str> = ops.iter().map(|o| o.area).collect();
        let tag = &ops[0].tag;
        index.push_str(&format!(
            "{}\n/// {} ({} operations).\npub mod {module};\n",
            cfg(&areas),
            doc_line(tag),
            ops.len()
        ));
        let mut text = format!(
            "//! {}: {} operations.\n#![allow(clippy::doc_markdown, clippy::too_many_arguments, rustdoc::bare_urls, rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]\n\n",
            doc_line(tag),
            ops.len()
        );
        for op in ops {
            text.push_str(&emit_op(op));
            text.push('\n');
        }
        files.push((format!("generated/{module}.rs"), text));
    }
    index.push_str("\n/// Every operation the enabled features compile, in spec order.\n#[allow(clippy::vec_init_then_push)]\npub fn operations() -> Vec<OperationInfo> {\n#[allow(unused_mut)]\nlet mut all = Vec::new();\n");
    for op in operations {
        index.push_str(&format!(
            "#[cfg(feature = {})]\nall.push({}::{}::INFO);\n",
            literal(op.area),
            op.module,
            op.name
        ));
    }
    index.push_str("all\n}\n");
    index.push_str("\n/// Decodes a success body of the operation `key` (`GET /v1/tasks`, as [`OperationInfo::key`]\n/// names it) into its generated type and shows it as JSON in wire names; `None` for a key\n/// no enabled operation has.\npub fn decode(key: &str, body: &[u8]) -> Option<Result<serde_json::Value, cc_core::de::JsonError>> {\nlet _ = body;\nmatch key {\n");
    for op in operations {
        index.push_str(&format!(
            "#[cfg(feature = {})]\n{} => Some(super::decode_as::<{}::{}>(body)),\n",
            literal(op.area),
            literal(&op.key()),
            op.module,
            op.name
        ));
    }
    index.push_str("_ => None,\n}\n}\n");
    files.push(("generated.rs".into(), index));
    files.push(("samples.rs".into(), emit_samples(operations, types)));
    files
}

/// One sample per operation (built from the spec's examples, else schema-valid instances) and
/// every schema example of the spec: what the operation tests and the simulator use.
fn emit_samples(operations: &[Operation], types: &Types) -> String {
    use super::example::{conform, instance};
    let mut repairs: Vec<String> = Vec::new();
    let mut fit = |example: Option<&serde_json::Value>, ty: &Ty, at: String| match example {
        Some(example) => conform(types, example, ty, &at, &mut repairs),
        None => instance(types, ty),
    };
    let json_lit = |v: &serde_json::Value| literal(&v.to_string());
    let mut out = String::from(
        "//! A sample of every operation (its request built from the spec's examples, else from\n//! schema-valid values, and the answer the spec shows) and every example of the spec's schemas.\n#![allow(clippy::redundant_closure, unused_imports)]\n\nuse super::{Operation, Parts, Sample, TypeExample, sample};\nuse super::models;\n\n/// Every operation the enabled features compile, in spec order.\n#[allow(clippy::vec_init_then_push)]\npub fn operations() -> Vec<Sample> {\n#[allow(unused_mut)]\nlet mut all = Vec::new();\n",
    );
    for op in operations {
        let path = format!("super::{}::{}", op.module, op.name);
        let mut args = Vec::new();
        let mut after = String::new();
        for p in op.params.iter().filter(|p| p.required && !p.org) {
            if matches!(p.ty, Ty::Str | Ty::Id(_)) {
                let text = match &p.example {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(other) if !other.is_null() && !other.is_object() && !other.is_array() => {
                        other.to_string()
                    }
                    _ => format!("sample-{}", p.wire),
                };
                args.push(literal(&text));
            } else {
                let value = fit(p.example.as_ref(), &p.ty, format!("{} parameter {}", op.key(), p.wire));
                args.push(format!("sample({})?", json_lit(&value)));
            }
        }
        match &op.body {
            Some(Body::Json { ty, required, .. }) => {
                let mut value = fit(op.body_example.as_ref(), ty, format!("{} request body", op.key()));
                // A sample is for the samples' organization, also where its body names one.
                set_org(&mut value);
                if *required {
                    args.push(format!("sample({})?", json_lit(&value)));
                } else {
                    after.push_str(&format!("op.body = Some(sample({})?);\n", json_lit(&value)));
                }
            }
            Some(Body::Multipart(parts)) => {
                for part in parts.iter().filter(|p| p.required) {
                    if part.ty == Ty::Bytes {
                        args.push("super::FilePart::new(\"sample.bin\", \"application/octet-stream\", b\"sample\".to_vec())".into());
                    } else {
                        args.push(format!("sample({})?", json_lit(&instance(types, &part.ty))));
                    }
                }
            }
            None => {}
        }
        let response = match &op.output {
            Output::Json(ty) | Output::OptionalJson(ty) => {
                fit(op.response_example.as_ref(), ty, format!("{} answer", op.key())).to_string()
            }
            Output::Empty | Output::Bytes => String::new(),
        };
        let check_body = match &op.body {
            Some(Body::Json { ty, .. }) => format!("Some(super::check::<{}>)", ty.rust_outside()),
            _ => "None".into(),
        };
        let body_required = matches!(&op.body, Some(Body::Json { required: true, .. }));
        let required_query: Vec<String> = op
            .params
            .iter()
            // An object parameter is sent as its members (form style, exploded): no pair of its name.
            .filter(|p| p.required && p.location == Loc::Query && !p.org && !is_object(types, &p.ty))
            .map(|p| literal(&p.wire))
            .collect();
        out.push_str(&format!(
            "#[cfg(feature = {area})]\nall.push(Sample::new(\n|| {{\n#[allow(unused_mut)]\nlet mut op = {path}::new({args});\n{after}Ok(op)\n}},\n{response},\n{check_body},\n&[{query}],\n{body_required},\n));\n",
            area = literal(op.area),
            args = args.join(", "),
            response = literal(&response),
            query = required_query.join(", "),
        ));
    }
    out.push_str("all\n}\n\n/// Every example of a schema that the enabled features compile.\n#[allow(clippy::vec_init_then_push)]\npub fn type_examples() -> Vec<TypeExample> {\n#[allow(unused_mut)]\nlet mut all = Vec::new();\n");
    for def in types.defs.values() {
        let Some(example) = &def.example else { continue };
        let example = &fit(Some(example), &Ty::Named(def.name.clone()), format!("schema {}", def.name));
        out.push_str(&format!(
            "{}\nall.push(TypeExample {{ name: {}, json: {}, decode: |body| super::decode_json::<models::{}>(body).map(drop) }});\n",
            cfg(&def.areas),
            literal(&def.name),
            json_lit(example),
            def.name
        ));
    }
    out.push_str("all\n}\n");
    out.push_str("\n/// Where the spec's examples contradict its own schemas (what the samples use instead is\n/// a schema-valid value): spec errors, kept in view.\npub const EXAMPLE_REPAIRS: &[&str] = &[\n");
    for repair in &repairs {
        out.push_str(&format!("{},\n", literal(repair)));
    }
    out.push_str("];\n");
    out
}

/// The organization the samples are built for (`api::SAMPLE_ORG`).
const SAMPLE_ORG: &str = "00000000-0000-4000-8000-000000000000";

/// Every `orgId`-like string member, at any depth, becomes the samples' organization.
fn set_org(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if matches!(key.as_str(), "orgId" | "orgid" | "organizationId") && member.is_string() {
                    *member = SAMPLE_ORG.into();
                } else {
                    set_org(member);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(set_org),
        _ => {}
    }
}

fn is_object(types: &Types, ty: &Ty) -> bool {
    match ty {
        Ty::Json | Ty::Map(_) => true,
        Ty::Named(name) => {
            matches!(types.defs.get(name).map(|d| &d.def), Some(super::model::Def::Struct { .. }))
        }
        _ => false,
    }
}

fn param_ty(p: &Param) -> String {
    if p.org || !p.required { format!("Option<{}>", p.ty.rust_outside()) } else { p.ty.rust_outside() }
}

fn emit_op(op: &Operation) -> String {
    let name = &op.name;
    let gate = format!("#[cfg(feature = {})]", literal(op.area));
    let mut fields = String::new();
    let mut new_args = Vec::new();
    let mut new_init = Vec::new();
    let mut build = String::new();
    for p in &op.params {
        let doc = if p.org { format!("{} `None`: the client's organization.", p.doc) } else { p.doc.clone() };
        fields.push_str(&format!("/// {doc}\npub {}: {},\n", p.rust, param_ty(p)));
        let method = match p.location {
            Loc::Path => "path_param",
            Loc::Query if p.joined => "query_joined",
            Loc::Query => "query",
            Loc::Header => "header",
        };
        if p.org {
            new_init.push(format!("{}: None", p.rust));
            build.push_str(&format!(
                "parts.{method}({}, self.{}.as_deref().unwrap_or(org))?;\n",
                literal(&p.wire),
                p.rust
            ));
        } else if p.required {
            if matches!(p.ty, Ty::Str | Ty::Id(_)) {
                new_args.push(format!("{}: impl Into<{}>", p.rust, p.ty.rust_outside()));
                new_init.push(format!("{}: {}.into()", p.rust, p.rust));
            } else {
                new_args.push(format!("{}: {}", p.rust, p.ty.rust_outside()));
                new_init.push(p.rust.clone());
            }
            build.push_str(&format!("parts.{method}({}, &self.{})?;\n", literal(&p.wire), p.rust));
        } else {
            new_init.push(format!("{}: None", p.rust));
            build.push_str(&format!("parts.{method}({}, &self.{})?;\n", literal(&p.wire), p.rust));
        }
    }
    match &op.body {
        Some(Body::Json { ty, required, content_type }) => {
            let ty_text = ty.rust_outside();
            if *required {
                fields.push_str(&format!("/// The request body.\npub body: {ty_text},\n"));
                new_args.push(format!("body: {ty_text}"));
                new_init.push("body".into());
                build.push_str(&format!("parts.json({}, &self.body)?;\n", literal(content_type)));
            } else {
                fields.push_str(&format!("/// The request body, optional.\npub body: Option<{ty_text}>,\n"));
                new_init.push("body: None".into());
                build.push_str(&format!(
                    "if let Some(body) = &self.body {{\nparts.json({}, body)?;\n}}\n",
                    literal(content_type)
                ));
            }
        }
        Some(Body::Multipart(parts)) => {
            let mut list = Vec::new();
            for part in parts {
                let file = part.ty == Ty::Bytes;
                let ty_text = if file { "crate::api::FilePart".to_owned() } else { part.ty.rust_outside() };
                if part.required {
                    fields.push_str(&format!("/// {}\npub {}: {ty_text},\n", part.doc, part.rust));
                    new_args.push(format!("{}: {ty_text}", part.rust));
                    new_init.push(part.rust.clone());
                } else {
                    fields.push_str(&format!("/// {}\npub {}: Option<{ty_text}>,\n", part.doc, part.rust));
                    new_init.push(format!("{}: None", part.rust));
                }
                list.push(match (file, part.required) {
                    (true, true) => format!("form.file({}, &self.{});\n", literal(&part.wire), part.rust),
                    (true, false) => format!(
                        "if let Some(file) = &self.{} {{\nform.file({}, file);\n}}\n",
                        part.rust,
                        literal(&part.wire)
                    ),
                    (false, _) => format!("form.value({}, &self.{})?;\n", literal(&part.wire), part.rust),
                });
            }
            build.push_str(&format!(
                "let mut form = crate::api::Form::new();\n{}parts.form(form);\n",
                list.join("")
            ));
        }
        None => {}
    }
    let (output, decode) = match &op.output {
        Output::Json(ty) => (ty.rust_outside(), "crate::api::decode_json(body)".to_owned()),
        Output::OptionalJson(ty) => {
            (format!("Option<{}>", ty.rust_outside()), "crate::api::decode_optional_json(body)".to_owned())
        }
        Output::Empty => ("()".into(), "crate::api::decode_empty(body)".into()),
        Output::Bytes => ("Vec<u8>".into(), "Ok(body.to_vec())".into()),
    };
    let needs_org = op.params.iter().any(|p| p.org);
    let (derive, new_body) = if new_args.is_empty() {
        ("#[derive(Clone, Debug, Default, PartialEq)]", "Self::default()".to_owned())
    } else {
        ("#[derive(Clone, Debug, PartialEq)]", format!("Self {{ {} }}", new_init.join(", ")))
    };
    let paged = match &op.paging {
        None => String::new(),
        Some(paging) => {
            let items = match &paging.field {
                None => "output".to_owned(),
                Some((field, true)) => format!("output.{field}.unwrap_or_default()"),
                Some((field, false)) => format!("output.{field}"),
            };
            let next = match &paging.next {
                Some(expr) => {
                    format!("fn has_next(output: &Self::Output) -> Option<bool> {{\n{expr}\n}}\n")
                }
                None => String::new(),
            };
            format!(
                "\n{gate}\nimpl crate::api::Paged for {name} {{\ntype Item = {item};\nfn page(&self) -> Option<i64> {{\nself.{page}\n}}\nfn set_page(&mut self, page: i64) {{\nself.{page} = Some(page);\n}}\nfn items(output: Self::Output) -> Vec<Self::Item> {{\n{items}\n}}\n{next}}}\n",
                item = paging.item.rust_outside(),
                page = paging.page,
            )
        }
    };
    let org_arg = if needs_org { "org" } else { "_org" };
    let parts_arg = if build.is_empty() { "_parts" } else { "parts" };
    let method = pascal(&op.method);
    let success: Vec<String> = op.success.iter().map(u16::to_string).collect();
    let detail = if op.doc.is_empty() || op.doc == doc_line(&op.summary) {
        String::new()
    } else {
        format!("\n///\n/// {}", op.doc)
    };
    format!(
        "{gate}\n/// {summary}.\n///\n/// `{key}` ({tag}, `{id}`).{detail}\n{derive}\npub struct {name} {{\n{fields}}}\n\n{gate}\nimpl {name} {{\n/// The operation with its required parameters; optional ones are fields.\npub fn new({args}) -> Self {{\n{new_body}\n}}\n}}\n\n{gate}\nimpl crate::api::Operation for {name} {{\ntype Output = {output};\nconst INFO: crate::api::OperationInfo = crate::api::OperationInfo {{\nmethod: cc_core::http::Method::{method},\npath: {path},\noperation_id: {id_lit},\ntag: {tag_lit},\narea: {area},\nname: {name_lit},\nsuccess: &[{success}],\nneeds_org: {needs_org},\nidempotent: {idempotent},\n}};\n\nfn build(&self, {org_arg}: &str, {parts_arg}: &mut crate::api::Parts) -> Result<(), crate::Error> {{\n{build}Ok(())\n}}\n\nfn decode(body: &[u8]) -> Result<Self::Output, cc_core::de::JsonError> {{\n{decode}\n}}\n}}\n{paged}",
        summary = doc_line(op.summary.trim_end_matches('.')),
        key = op.key().replace('`', "'"),
        tag = doc_line(&op.tag),
        id = op.id.replace('`', "'"),
        args = new_args.join(", "),
        path = literal(&op.path),
        id_lit = literal(&op.id),
        tag_lit = literal(&op.tag),
        area = literal(op.area),
        name_lit = literal(name),
        success = success.join(", "),
        idempotent = op.idempotent(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_summary_and_stay_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(
            op_name(
                "Get specific Address Book by ID",
                "/organization/{orgid}/address-book/{id}",
                "getConfig_2",
                &mut taken
            ),
            "GetAddressBookById"
        );
        assert_eq!(
            op_name(
                "Get specific Address Book by ID",
                "/organization/{orgid}/v3/address-book/{id}",
                "getConfig_3",
                &mut taken
            ),
            "GetAddressBookByIdV3"
        );
        assert_eq!(
            op_name(
                "Get specific Address Book by ID",
                "/organization/{orgid}/other/{id}",
                "getConfig_4",
                &mut taken
            ),
            "GetAddressBookByIdGetConfig4"
        );
        assert_eq!(op_name("List Team(s)", "/organization/{orgid}/team", "x", &mut taken), "ListTeams");
    }
}
