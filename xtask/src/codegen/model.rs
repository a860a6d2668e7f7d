//! JSON schemas → Rust types: structs (optional fields as `Option`, integers lenient), open
//! enums, aliases, untagged unions. Each type is gated by the features of the operations that
//! reach it.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    AdditionalProperties, OpenAPI, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use super::names::{RESERVED_TYPES, doc_line, literal, pascal, snake};
use super::ops::Operation;
use super::overrides::{HAND_WRITTEN, HandWritten};

/// A Rust type of the generated code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    /// A string id with a type of its own in `crate::model` (`overrides::TYPED_IDS`).
    Id(&'static str),
    I64,
    F64,
    Bool,
    /// Free-form JSON.
    Json,
    /// Raw bytes (binary parts and downloads).
    Bytes,
    Vec(Box<Ty>),
    Map(Box<Ty>),
    Named(String),
}

impl Ty {
    /// The type as written inside the `models` module.
    pub fn rust(&self) -> String {
        match self {
            Ty::Str => "String".into(),
            Ty::Id(model) => format!("crate::model::{model}"),
            Ty::I64 => "i64".into(),
            Ty::F64 => "f64".into(),
            Ty::Bool => "bool".into(),
            Ty::Json => "serde_json::Value".into(),
            // Inside JSON a binary member is a string; raw bytes are multipart files and
            // downloads, which the operations handle themselves.
            Ty::Bytes => "String".into(),
            Ty::Vec(inner) => format!("Vec<{}>", inner.rust()),
            Ty::Map(inner) => format!("std::collections::BTreeMap<String, {}>", inner.rust()),
            Ty::Named(name) => name.clone(),
        }
    }

    /// The type as written outside the `models` module.
    pub fn rust_outside(&self) -> String {
        match self {
            Ty::Vec(inner) => format!("Vec<{}>", inner.rust_outside()),
            Ty::Map(inner) => format!("std::collections::BTreeMap<String, {}>", inner.rust_outside()),
            Ty::Named(name) => format!("crate::api::models::{name}"),
            other => other.rust(),
        }
    }

    /// Named types this one mentions.
    fn named(&self, out: &mut BTreeSet<String>) {
        match self {
            Ty::Vec(inner) | Ty::Map(inner) => inner.named(out),
            Ty::Named(name) => {
                out.insert(name.clone());
            }
            _ => {}
        }
    }
}

/// A struct field.
#[derive(Clone, Debug)]
pub struct Field {
    pub rust: String,
    pub wire: String,
    pub ty: Ty,
    pub required: bool,
    pub doc: String,
    /// Boxed: the field's type contains the struct itself.
    pub boxed: bool,
    /// The spec's example, where the property has one.
    pub example: Option<serde_json::Value>,
    /// Required, but read as its default value when an answer leaves it out.
    pub lenient_default: bool,
}

#[derive(Clone, Debug)]
pub enum Def {
    Struct { fields: Vec<Field>, extra: bool },
    Enum { variants: Vec<(String, String)> },
    Alias(Ty),
    OneOf(Vec<(String, Ty)>),
}

#[derive(Clone, Debug)]
pub struct TypeDef {
    pub name: String,
    pub doc: String,
    pub def: Def,
    pub areas: BTreeSet<&'static str>,
    pub default: bool,
    /// The spec's example of the whole schema, where it has one.
    pub example: Option<serde_json::Value>,
    /// Modelled by hand in `crate::model`: emitted as an alias of that type. The schema is
    /// still read (examples, paging); what it mentions is not reached through it.
    pub model: Option<HandWritten>,
}

/// Every generated type, by Rust name.
pub struct Types<'a> {
    api: &'a OpenAPI,
    pub defs: BTreeMap<String, TypeDef>,
    components: BTreeMap<String, String>,
}

impl<'a> Types<'a> {
    pub fn new(api: &'a OpenAPI) -> Result<Self, String> {
        Self::with_hand_written(api, HAND_WRITTEN)
    }

    /// The types of `api`, those of `hand_written` modelled by hand.
    pub fn with_hand_written(api: &'a OpenAPI, hand_written: &[HandWritten]) -> Result<Self, String> {
        let mut types = Self { api, defs: BTreeMap::new(), components: BTreeMap::new() };
        if let Some(components) = &api.components {
            for name in components.schemas.keys() {
                types.component(name);
            }
        }
        for hand in hand_written {
            let rust = types.components.get(hand.schema).cloned().ok_or_else(|| {
                format!("overrides.rs names schema `{}`, which the spec does not have", hand.schema)
            })?;
            types.hand_written(&rust, *hand)?;
        }
        Ok(types)
    }

    /// Marks type `name` as modelled by `hand`.
    pub fn hand_written(&mut self, name: &str, hand: HandWritten) -> Result<(), String> {
        let def = self.defs.get_mut(name).ok_or_else(|| format!("no type `{name}` for {}", hand.model))?;
        if !matches!(def.def, Def::Struct { .. }) {
            return Err(format!("`{}` is modelled by hand but is not an object schema", hand.schema));
        }
        def.model = Some(hand);
        Ok(())
    }

    /// Defines a fresh type for an inline schema modelled by `hand` (an answer the spec gets
    /// wrong), its schema `Any`.
    pub fn hand_written_output(&mut self, context: &str, hand: HandWritten) -> Ty {
        let name = self.fresh(context);
        self.insert(
            name.clone(),
            format!("The answer of `{}`.", hand.schema),
            Def::Struct { fields: Vec::new(), extra: false },
        );
        if let Some(def) = self.defs.get_mut(&name) {
            def.model = Some(hand);
        }
        Ty::Named(name)
    }

    /// A fresh type name from `wanted` (suffixed when taken).
    fn fresh(&self, wanted: &str) -> String {
        let mut base = pascal(wanted);
        if RESERVED_TYPES.contains(&base.as_str()) {
            base.push_str("Model");
        }
        let mut name = base.clone();
        let mut n = 2;
        while self.defs.contains_key(&name) || self.components.values().any(|v| *v == name) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }

    fn insert(&mut self, name: String, doc: String, def: Def) {
        self.defs.insert(
            name.clone(),
            TypeDef { name, doc, def, areas: BTreeSet::new(), default: false, example: None, model: None },
        );
    }

    /// The Rust type of component schema `name`, defined on first use.
    pub fn component(&mut self, name: &str) -> Ty {
        if let Some(rust) = self.components.get(name) {
            return Ty::Named(rust.clone());
        }
        let rust = self.fresh(name);
        self.components.insert(name.to_owned(), rust.clone());
        let schema = self.api.components.as_ref().and_then(|c| c.schemas.get(name)).cloned().unwrap_or(
            ReferenceOr::Item(Schema {
                schema_data: Default::default(),
                schema_kind: SchemaKind::Any(Default::default()),
            }),
        );
        match &schema {
            ReferenceOr::Reference { reference } => {
                let target = self.reference(reference);
                self.insert(rust.clone(), format!("`{name}`."), Def::Alias(target));
            }
            ReferenceOr::Item(schema) => self.define(&rust, schema, &format!("`{name}`")),
        }
        Ty::Named(rust)
    }

    /// `#/components/schemas/X` → its type.
    pub fn reference(&mut self, reference: &str) -> Ty {
        match reference.strip_prefix("#/components/schemas/") {
            Some(name) => self.component(name),
            None => Ty::Json,
        }
    }

    /// The type of `schema` where it appears; inline structs and enums are named `context`.
    pub fn of(&mut self, schema: &ReferenceOr<Schema>, context: &str) -> Ty {
        match schema {
            ReferenceOr::Reference { reference } => self.reference(reference),
            ReferenceOr::Item(schema) => self.inline(schema, context),
        }
    }

    fn of_boxed(&mut self, schema: &ReferenceOr<Box<Schema>>, context: &str) -> Ty {
        match schema {
            ReferenceOr::Reference { reference } => self.reference(reference),
            ReferenceOr::Item(schema) => self.inline(schema, context),
        }
    }

    fn inline(&mut self, schema: &Schema, context: &str) -> Ty {
        if let Some(ty) = self.simple(schema, context) {
            return ty;
        }
        let name = self.fresh(context);
        self.define(&name, schema, &format!("`{context}`"));
        Ty::Named(name)
    }

    /// The type of a schema that needs no definition of its own, if it is one.
    fn simple(&mut self, schema: &Schema, context: &str) -> Option<Ty> {
        Some(match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) if s.enumeration.iter().all(Option::is_none) => {
                match &s.format {
                    VariantOrUnknownOrEmpty::Item(StringFormat::Binary) => Ty::Bytes,
                    _ => Ty::Str,
                }
            }
            SchemaKind::Type(Type::Integer(_)) => Ty::I64,
            SchemaKind::Type(Type::Number(_)) => Ty::F64,
            SchemaKind::Type(Type::Boolean(_)) => Ty::Bool,
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => Ty::Vec(Box::new(self.of_boxed(items, &format!("{context}Item")))),
                None => Ty::Vec(Box::new(Ty::Json)),
            },
            SchemaKind::Type(Type::Object(o)) if o.properties.is_empty() => match &o.additional_properties {
                Some(AdditionalProperties::Schema(inner)) => {
                    Ty::Map(Box::new(self.of(inner, &format!("{context}Value"))))
                }
                // No members named: the spec says nothing about its shape (and its examples
                // are not always objects), so any JSON is taken.
                _ => Ty::Json,
            },
            SchemaKind::Any(any)
                if any.properties.is_empty() && any.all_of.is_empty() && any.one_of.is_empty() =>
            {
                match any.typ.as_deref() {
                    Some("string") if any.enumeration.is_empty() => Ty::Str,
                    Some("integer") => Ty::I64,
                    Some("number") => Ty::F64,
                    Some("boolean") => Ty::Bool,
                    Some("array") => match &any.items {
                        Some(items) => Ty::Vec(Box::new(self.of_boxed(items, &format!("{context}Item")))),
                        None => Ty::Vec(Box::new(Ty::Json)),
                    },
                    Some("string") => return None,
                    _ => Ty::Json,
                }
            }
            SchemaKind::Not { .. } | SchemaKind::AnyOf { .. } => Ty::Json,
            _ => return None,
        })
    }

    /// Defines type `name` from `schema`.
    fn define(&mut self, name: &str, schema: &Schema, what: &str) {
        let doc = schema.schema_data.description.as_deref().map(doc_line).filter(|d| !d.is_empty());
        let doc = doc.unwrap_or_else(|| format!("{what}."));
        if let Some(ty) = self.simple(schema, name) {
            self.insert(name.to_owned(), doc, Def::Alias(ty));
            if let Some(slot) = self.defs.get_mut(name) {
                slot.example = schema.schema_data.example.clone();
            }
            return;
        }
        // Reserve the name before the fields, so a recursive reference finds it.
        self.insert(name.to_owned(), doc.clone(), Def::Alias(Ty::Json));
        let def = match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                Def::Enum { variants: variants(s.enumeration.iter().flatten()) }
            }
            SchemaKind::Any(any) if !any.enumeration.is_empty() => Def::Enum {
                variants: variants(
                    any.enumeration
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                        .iter(),
                ),
            },
            SchemaKind::Type(Type::Object(o)) => {
                let fields = self.fields(
                    name,
                    o.properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    &o.required,
                );
                Def::Struct { fields, extra: false }
            }
            SchemaKind::Any(any) if any.all_of.is_empty() && any.one_of.is_empty() => {
                let fields = self.fields(
                    name,
                    any.properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    &any.required,
                );
                Def::Struct { fields, extra: false }
            }
            SchemaKind::AllOf { all_of } => self.all_of(name, all_of),
            SchemaKind::Any(any) if !any.all_of.is_empty() => self.all_of(name, &any.all_of),
            SchemaKind::OneOf { one_of } => self.one_of(name, one_of),
            SchemaKind::Any(any) => self.one_of(name, &any.one_of),
            _ => Def::Alias(Ty::Json),
        };
        if let Some(slot) = self.defs.get_mut(name) {
            slot.def = def;
        }
    }

    fn fields(
        &mut self,
        owner: &str,
        properties: Vec<(String, ReferenceOr<Box<Schema>>)>,
        required: &[String],
    ) -> Vec<Field> {
        let mut fields: Vec<Field> = Vec::new();
        for (wire, schema) in properties {
            let ty = super::overrides::typed_id(
                &wire,
                self.of_boxed(&schema, &format!("{owner}{}", pascal(&wire))),
            );
            let (description, nullable, example) = match &schema {
                ReferenceOr::Item(s) => {
                    (s.schema_data.description.clone(), s.schema_data.nullable, s.schema_data.example.clone())
                }
                ReferenceOr::Reference { .. } => (None, false, None),
            };
            let mut rust = snake(&wire);
            let base = rust.clone();
            let mut n = 2;
            while fields.iter().any(|f| f.rust == rust) || rust == "extra" {
                rust = format!("{}_{n}", base.trim_start_matches("r#"));
                n += 1;
            }
            let doc = description
                .as_deref()
                .map(doc_line)
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| format!("`{wire}`."));
            fields.push(Field {
                rust,
                wire: wire.clone(),
                ty,
                required: required.contains(&wire) && !nullable,
                doc,
                boxed: false,
                example,
                lenient_default: false,
            });
        }
        fields
    }

    /// `allOf`: one struct with the properties of every part.
    fn all_of(&mut self, name: &str, parts: &[ReferenceOr<Schema>]) -> Def {
        let mut properties = Vec::new();
        let mut required = Vec::new();
        let mut stack: Vec<ReferenceOr<Schema>> = parts.iter().rev().cloned().collect();
        let mut seen = BTreeSet::new();
        while let Some(part) = stack.pop() {
            let schema = match part {
                ReferenceOr::Reference { reference } => {
                    if !seen.insert(reference.clone()) {
                        continue;
                    }
                    let name = reference.trim_start_matches("#/components/schemas/");
                    match self.api.components.as_ref().and_then(|c| c.schemas.get(name)) {
                        Some(ReferenceOr::Item(s)) => s.clone(),
                        Some(other) => {
                            stack.push(other.clone());
                            continue;
                        }
                        None => continue,
                    }
                }
                ReferenceOr::Item(s) => s,
            };
            match &schema.schema_kind {
                SchemaKind::Type(Type::Object(o)) => {
                    properties.extend(o.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
                    required.extend(o.required.iter().cloned());
                }
                SchemaKind::Any(any) => {
                    properties.extend(any.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
                    required.extend(any.required.iter().cloned());
                    stack.extend(any.all_of.iter().rev().cloned());
                }
                SchemaKind::AllOf { all_of } => stack.extend(all_of.iter().rev().cloned()),
                _ => {}
            }
        }
        // A later part redefines a property: the last definition wins, at the first position.
        let mut merged: Vec<(String, ReferenceOr<Box<Schema>>)> = Vec::new();
        for (k, v) in properties {
            match merged.iter_mut().find(|(m, _)| *m == k) {
                Some(slot) => slot.1 = v,
                None => merged.push((k, v)),
            }
        }
        Def::Struct { fields: self.fields(name, merged, &required), extra: false }
    }

    /// `oneOf`: an untagged union, tried in order.
    fn one_of(&mut self, name: &str, parts: &[ReferenceOr<Schema>]) -> Def {
        let mut variants: Vec<(String, Ty)> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let ty = self.of(part, &format!("{name}Variant{}", i + 1));
            let mut variant = match &ty {
                Ty::Named(n) => n.clone(),
                other => pascal(&other.rust()),
            };
            if variants.iter().any(|(v, _)| *v == variant) {
                variant = format!("{variant}{}", i + 1);
            }
            variants.push((variant, ty));
        }
        if variants.is_empty() { Def::Alias(Ty::Json) } else { Def::OneOf(variants) }
    }

    /// Marks every type reachable from each operation with its area; types of structs that a
    /// PUT or PATCH sends keep unknown fields; recursive fields are boxed; `Default` where every
    /// required field has one.
    pub fn assign_areas(&mut self, operations: &[Operation]) -> Result<(), String> {
        for op in operations {
            let mut roots = BTreeSet::new();
            for ty in op.types() {
                ty.named(&mut roots);
            }
            for name in self.closure(roots) {
                if let Some(def) = self.defs.get_mut(&name) {
                    def.areas.insert(op.area);
                }
            }
            if matches!(op.method.as_str(), "put" | "patch") {
                let mut roots = BTreeSet::new();
                if let Some(body) = op.body_ty() {
                    body.named(&mut roots);
                }
                let patch = op.method == "patch";
                for name in self.closure(roots) {
                    if let Some(TypeDef { model: Some(hand), .. }) = self.defs.get(&name) {
                        // The hand-written type must keep unknown members itself.
                        if !hand.extra {
                            return Err(format!(
                                "{} sends `{}` (modelled by hand as `{}`), which overrides.rs does not mark as keeping unknown members",
                                op.key(),
                                hand.schema,
                                hand.model
                            ));
                        }
                        continue;
                    }
                    if let Some(TypeDef { def: Def::Struct { extra, fields }, .. }) = self.defs.get_mut(&name)
                    {
                        *extra = true;
                        // A PATCH sends only what changes: nothing can be required.
                        if patch {
                            fields.iter_mut().for_each(|f| f.required = false);
                        }
                    }
                }
            }
        }
        self.box_recursion();
        self.derive_default();
        // A required member that has a default value reads as that value when an answer
        // leaves it out (the spec's own list examples do, and `attributes` selects members).
        let defaults: BTreeMap<String, bool> =
            self.defs.iter().map(|(n, d)| (n.clone(), d.default)).collect();
        for def in self.defs.values_mut() {
            if let Def::Struct { fields, .. } = &mut def.def {
                for field in fields.iter_mut().filter(|f| f.required) {
                    field.lenient_default = ty_has_default(&defaults, &field.ty);
                }
            }
        }
        Ok(())
    }

    fn mentions(&self, name: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        match self.defs.get(name).filter(|d| d.model.is_none()).map(|d| &d.def) {
            Some(Def::Struct { fields, .. }) => fields.iter().for_each(|f| f.ty.named(&mut out)),
            Some(Def::Alias(ty)) => ty.named(&mut out),
            Some(Def::OneOf(vs)) => vs.iter().for_each(|(_, t)| t.named(&mut out)),
            _ => {}
        }
        out
    }

    fn closure(&self, roots: BTreeSet<String>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = roots.into_iter().collect();
        while let Some(name) = stack.pop() {
            if seen.insert(name.clone()) {
                stack.extend(self.mentions(&name));
            }
        }
        seen
    }

    /// Named types a value of `name` holds inline (not behind a `Vec` or map).
    fn direct(&self, name: &str) -> Vec<String> {
        match self.defs.get(name).filter(|d| d.model.is_none()).map(|d| &d.def) {
            Some(Def::Struct { fields, .. }) => fields
                .iter()
                .filter(|f| !f.boxed)
                .filter_map(|f| if let Ty::Named(n) = &f.ty { Some(n.clone()) } else { None })
                .collect(),
            Some(Def::Alias(Ty::Named(n))) => vec![n.clone()],
            Some(Def::OneOf(vs)) => vs
                .iter()
                .filter_map(|(_, t)| if let Ty::Named(n) = t { Some(n.clone()) } else { None })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn reaches(&self, from: &str, target: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(name) = stack.pop() {
            if name == target {
                return true;
            }
            if seen.insert(name.clone()) {
                stack.extend(self.direct(&name));
            }
        }
        false
    }

    fn box_recursion(&mut self) {
        let names: Vec<String> = self.defs.keys().cloned().collect();
        for name in names {
            let Some(Def::Struct { fields, .. }) = self.defs.get(&name).map(|d| d.def.clone()) else {
                continue;
            };
            for (i, field) in fields.iter().enumerate() {
                if let Ty::Named(target) = &field.ty
                    && self.reaches(target, &name)
                    && let Some(TypeDef { def: Def::Struct { fields, .. }, .. }) = self.defs.get_mut(&name)
                {
                    fields[i].boxed = true;
                }
            }
        }
    }

    fn derive_default(&mut self) {
        for def in self.defs.values_mut() {
            def.default = match def.model {
                Some(hand) => hand.default,
                None => matches!(def.def, Def::Struct { .. }),
            };
        }
        loop {
            let mut changed = false;
            let names: Vec<String> = self.defs.keys().cloned().collect();
            for name in names {
                if !self.defs[&name].default || self.defs[&name].model.is_some() {
                    continue;
                }
                let ok = match &self.defs[&name].def {
                    Def::Struct { fields, .. } => {
                        fields.iter().filter(|f| f.required).all(|f| self.ty_default(&f.ty))
                    }
                    _ => false,
                };
                if !ok {
                    if let Some(d) = self.defs.get_mut(&name) {
                        d.default = false;
                    }
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn ty_default(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Named(n) => match self.defs.get(n).map(|d| (&d.def, d.default)) {
                Some((Def::Alias(inner), _)) => self.ty_default(inner),
                Some((_, default)) => default,
                None => false,
            },
            Ty::Id(_) => false,
            _ => true,
        }
    }

    /// The `models` module.
    pub fn emit(&self) -> String {
        let mut out = String::from(
            "//! Every schema of the spec as a Rust type. Optional members are `Option`s, integers\n//! also arrive as strings, enums are open (`Unknown` keeps a new value), and the structs that\n//! a PUT or PATCH sends keep members this version does not know in `extra`.\n#![allow(clippy::large_enum_variant, clippy::doc_markdown, rustdoc::bare_urls, rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]\n\n// Unused when no area is enabled (`client` alone).\n#[allow(unused_imports)]\nuse serde::{Deserialize, Serialize};\n\n",
        );
        for def in self.defs.values() {
            out.push_str(&self.emit_def(def));
            out.push('\n');
        }
        out
    }

    fn emit_def(&self, def: &TypeDef) -> String {
        let cfg = cfg(&def.areas);
        let name = &def.name;
        let doc = &def.doc;
        if let Some(hand) = def.model {
            let model = hand.model;
            return format!(
                "{cfg}\n/// {doc}\n///\n/// Modelled by hand: [`crate::model::{model}`].\npub type {name} = crate::model::{model};\n"
            );
        }
        match &def.def {
            Def::Alias(ty) => format!("{cfg}\n/// {doc}\npub type {name} = {};\n", ty.rust()),
            Def::Enum { variants } => {
                let body: String = variants
                    .iter()
                    .map(|(v, wire)| {
                        format!("/// `{}`.\n{v} = {},\n", doc_line(wire).replace('`', "'"), literal(wire))
                    })
                    .collect();
                format!("{cfg}\ncc_core::open_enum! {{\n/// {doc}\npub enum {name} {{\n{body}}}\n}}\n")
            }
            Def::OneOf(variants) => {
                let body: String = variants
                    .iter()
                    .map(|(v, ty)| format!("/// As `{}`.\n{v}({}),\n", ty.rust(), ty.rust()))
                    .collect();
                format!(
                    "{cfg}\n/// {doc}\n#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\n#[serde(untagged)]\npub enum {name} {{\n{body}}}\n"
                )
            }
            Def::Struct { fields, extra } => {
                // Credentials (`password`, `secret`, `authToken`…) and unknown members, which may
                // be credentials too, stay out of `Debug`: it is written by hand then.
                let secret =
                    |f: &Field| matches!(f.ty, Ty::Str | Ty::Bytes) && cc_core::secret::looks_secret(&f.wire);
                let manual_debug = *extra || fields.iter().any(secret);
                let debug = if manual_debug { "" } else { "Debug, " };
                let default = if def.default { "Default, " } else { "" };
                let derive = format!("#[derive(Clone, {debug}{default}PartialEq, Serialize, Deserialize)]");
                let mut body = String::new();
                for field in fields {
                    body.push_str(&emit_field(field));
                }
                if *extra {
                    body.push_str("/// Members this version does not know, kept so that a read-modify-write sends them back.\n#[serde(flatten)]\npub extra: serde_json::Map<String, serde_json::Value>,\n");
                }
                let mut out = format!("{cfg}\n/// {doc}\n{derive}\npub struct {name} {{\n{body}}}\n");
                if manual_debug {
                    let mut shown = String::new();
                    for field in fields {
                        let value = match (secret(field), field.required) {
                            (true, true) => "&\"[redacted]\"".to_owned(),
                            (true, false) => format!("&self.{}.as_ref().map(|_| \"[redacted]\")", field.rust),
                            (false, _) => format!("&self.{}", field.rust),
                        };
                        shown.push_str(&format!(
                            ".field({}, {value})\n",
                            literal(field.rust.trim_start_matches("r#"))
                        ));
                    }
                    if *extra {
                        shown.push_str(".field(\"extra\", &self.extra.keys().collect::<Vec<_>>())\n");
                    }
                    out.push_str(&format!(
                        "\n{cfg}\nimpl std::fmt::Debug for {name} {{\nfn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\nf.debug_struct({})\n{shown}.finish()\n}}\n}}\n",
                        literal(name)
                    ));
                }
                out
            }
        }
    }
}

fn emit_field(field: &Field) -> String {
    let ty = if field.boxed { format!("Box<{}>", field.ty.rust()) } else { field.ty.rust() };
    let mut attrs: Vec<String> = Vec::new();
    let rename = format!("rename = {}", literal(&field.wire));
    attrs.push(rename);
    let rust_ty = if field.required {
        if field.lenient_default {
            attrs.push("default".into());
        }
        if field.ty == Ty::I64 && !field.boxed {
            attrs.push("deserialize_with = \"cc_core::de::lenient_i64\"".into());
        }
        ty
    } else {
        attrs.push("default".into());
        match field.ty {
            Ty::I64 if !field.boxed => {
                attrs.push("deserialize_with = \"cc_core::de::lenient_opt_i64\"".into())
            }
            Ty::F64 if !field.boxed => {
                attrs.push("deserialize_with = \"cc_core::de::lenient_opt_f64\"".into())
            }
            _ => {}
        }
        attrs.push("skip_serializing_if = \"Option::is_none\"".into());
        format!("Option<{ty}>")
    };
    format!("/// {}\n#[serde({})]\npub {}: {rust_ty},\n", field.doc, attrs.join(", "), field.rust)
}

fn ty_has_default(defaults: &BTreeMap<String, bool>, ty: &Ty) -> bool {
    match ty {
        Ty::Named(n) => defaults.get(n).copied().unwrap_or(false),
        // An id is never made up: a required one that is missing is an error.
        Ty::Id(_) => false,
        _ => true,
    }
}

/// `#[cfg(any(feature = "a", …))]` for a set of areas; types no operation reaches are compiled
/// with `full` only.
pub fn cfg(areas: &BTreeSet<&'static str>) -> String {
    if areas.is_empty() {
        return "#[cfg(feature = \"full\")]".into();
    }
    let list: Vec<String> = areas.iter().map(|a| format!("feature = {}", literal(a))).collect();
    if list.len() == 1 { format!("#[cfg({})]", list[0]) } else { format!("#[cfg(any({}))]", list.join(", ")) }
}

/// Variant names for wire values, unique, never `Unknown`.
fn variants<'s>(values: impl Iterator<Item = &'s String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for wire in values {
        if out.iter().any(|(_, w)| w == wire) {
            continue;
        }
        let mut name = pascal(wire);
        if name == "Unknown" {
            name.push_str("Value");
        }
        let base = name.clone();
        let mut n = 2;
        while out.iter().any(|(v, _)| *v == name) {
            name = format!("{base}{n}");
            n += 1;
        }
        out.push((name, wire.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(method: &str) -> OpenAPI {
        serde_json::from_value(json!({
            "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
            "paths": {"/things/{id}": {method: {
                "tags": ["Team"], "summary": "Save thing",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
            }}},
            "components": {"schemas": {
                "Thing": {"type": "object", "required": ["id"], "properties": {
                    "id": {"type": "string"}, "part": {"$ref": "#/components/schemas/Part"}}},
                "Part": {"type": "object", "properties": {"name": {"type": "string"}}}
            }}
        }))
        .unwrap()
    }

    fn areas(api: &OpenAPI, hand: HandWritten) -> Result<Types<'_>, String> {
        let mut types = Types::with_hand_written(api, &[hand])?;
        let operations = super::super::ops::collect(api, &mut types)?;
        types.assign_areas(&operations)?;
        Ok(types)
    }

    #[test]
    fn hand_written_schemas_are_aliases_and_what_they_mention_is_not_reached() {
        let api = spec("post");
        let hand = HandWritten { schema: "Thing", model: "Thing", default: false, extra: false };
        let types = areas(&api, hand).unwrap();
        let thing = &types.defs["Thing"];
        assert!(!thing.areas.is_empty(), "the operation reaches the alias");
        assert!(types.defs["Part"].areas.is_empty(), "only the hand-written type holds `Part`");
        let text = types.emit_def(thing);
        assert!(text.contains("pub type Thing = crate::model::Thing;"), "{text}");
        assert!(!text.contains("struct"), "{text}");
    }

    #[test]
    fn a_put_of_a_hand_written_type_that_drops_unknown_members_is_refused() {
        let api = spec("put");
        let dropping = HandWritten { schema: "Thing", model: "Thing", default: false, extra: false };
        let err = areas(&api, dropping).err().expect("refused");
        assert!(err.contains("PUT /things/{id}") && err.contains("unknown members"), "{err}");
        let keeping = HandWritten { extra: true, ..dropping };
        assert!(areas(&api, keeping).is_ok());
        let missing = HandWritten { schema: "Nothing", ..dropping };
        assert!(Types::with_hand_written(&api, &[missing]).err().unwrap().contains("`Nothing`"));
    }
}
