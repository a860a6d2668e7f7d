//! Example values: the spec's own examples where it has them, else a schema-valid instance.
//! They feed the samples every operation is tested with and the simulator answers with.

use cc_core::de::json_kind;
use serde_json::{Map, Value, json};

use super::model::{Def, Ty, Types};

/// How deep optional members are filled; deeper, only required ones are.
const DEPTH: usize = 4;
/// Past this, nothing more is nested (a required member of a recursive type).
const MAX_DEPTH: usize = 12;

/// A value of `ty`: the examples of its members where they fit the schema, else schema values.
pub fn instance(types: &Types, ty: &Ty) -> Value {
    value(types, ty, 0, true)
}

/// A value of `ty` from the schema alone (no examples).
fn skeleton(types: &Types, ty: &Ty) -> Value {
    value(types, ty, 0, false)
}

fn value(types: &Types, ty: &Ty, depth: usize, examples: bool) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match ty {
        Ty::Str | Ty::Id(_) => json!("string"),
        Ty::I64 => json!(1),
        Ty::F64 => json!(1.5),
        Ty::Bool => json!(true),
        Ty::Json => json!({}),
        Ty::Bytes => json!(""),
        Ty::Vec(inner) if depth < DEPTH => json!([value(types, inner, depth + 1, examples)]),
        Ty::Vec(_) => json!([]),
        Ty::Map(inner) if depth < DEPTH => json!({ "key": value(types, inner, depth + 1, examples) }),
        Ty::Map(_) => json!({}),
        Ty::Named(name) => {
            let Some(def) = types.defs.get(name) else { return Value::Null };
            match &def.def {
                Def::Alias(inner) => value(types, inner, depth, examples),
                Def::Enum { variants } => variants.first().map_or(Value::Null, |(_, wire)| json!(wire)),
                Def::OneOf(variants) => {
                    variants.first().map_or(Value::Null, |(_, t)| value(types, t, depth, examples))
                }
                Def::Struct { fields, .. } => {
                    let mut object = Map::new();
                    for field in fields {
                        if !field.required && depth >= DEPTH {
                            continue;
                        }
                        let fitting = field.example.as_ref().filter(|_| examples).and_then(|example| {
                            let mut trial = Vec::new();
                            let fitted = conform(types, example, &field.ty, "", &mut trial);
                            trial.is_empty().then_some(fitted)
                        });
                        let member = fitting.unwrap_or_else(|| value(types, &field.ty, depth + 1, examples));
                        if !member.is_null() {
                            object.insert(field.wire.clone(), member);
                        }
                    }
                    Value::Object(object)
                }
            }
        }
    }
}

/// `example` made to fit `ty`: members that contradict the schema are replaced by an
/// instance, and each replacement is noted in `repairs` (`where: why`).
pub fn conform(types: &Types, example: &Value, ty: &Ty, at: &str, repairs: &mut Vec<String>) -> Value {
    let mut replace = |why: &str| {
        repairs.push(format!("{at}: {why}"));
        skeleton(types, ty)
    };
    let numeric = |v: &Value| v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok());
    match ty {
        Ty::Str | Ty::Id(_) | Ty::Bytes => match example {
            Value::String(_) => example.clone(),
            other => replace(&format!("{} for a string", json_kind(other))),
        },
        Ty::I64 => match example {
            Value::Number(n) if n.is_i64() || n.is_u64() => example.clone(),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => example.clone(),
            other => replace(&format!("{} for an integer", json_kind(other))),
        },
        Ty::F64 => match example {
            Value::Number(_) => example.clone(),
            v if numeric(v) => example.clone(),
            other => replace(&format!("{} for a number", json_kind(other))),
        },
        Ty::Bool => match example {
            Value::Bool(_) => example.clone(),
            other => replace(&format!("{} for a boolean", json_kind(other))),
        },
        Ty::Json => example.clone(),
        Ty::Vec(inner) => match example {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| conform(types, v, inner, &format!("{at}[{i}]"), repairs))
                    .collect(),
            ),
            other => replace(&format!("{} for a list", json_kind(other))),
        },
        Ty::Map(inner) => match example {
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), conform(types, v, inner, &format!("{at}.{k}"), repairs)))
                    .collect(),
            ),
            other => replace(&format!("{} for a map", json_kind(other))),
        },
        Ty::Named(name) => {
            let Some(def) = types.defs.get(name) else { return example.clone() };
            match &def.def {
                Def::Alias(inner) => conform(types, example, inner, at, repairs),
                Def::Enum { .. } => match example {
                    Value::String(_) => example.clone(),
                    other => replace(&format!("{} for an enum", json_kind(other))),
                },
                Def::OneOf(variants) => {
                    for (_, variant) in variants {
                        let mut trial = Vec::new();
                        let fitted = conform(types, example, variant, at, &mut trial);
                        if trial.is_empty() {
                            return fitted;
                        }
                    }
                    replace("fits none of the variants")
                }
                Def::Struct { fields, .. } => {
                    let Value::Object(members) = example else {
                        return replace(&format!("{} for an object", json_kind(example)));
                    };
                    let mut out = members.clone();
                    for field in fields {
                        let here = format!("{at}.{}", field.wire);
                        match members.get(&field.wire) {
                            Some(Value::Null) if !field.required => {}
                            Some(value) => {
                                out.insert(
                                    field.wire.clone(),
                                    conform(types, value, &field.ty, &here, repairs),
                                );
                            }
                            None if field.required && !field.lenient_default => {
                                repairs.push(format!("{here}: required, missing"));
                                out.insert(field.wire.clone(), skeleton(types, &field.ty));
                            }
                            None => {}
                        }
                    }
                    Value::Object(out)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_that_contradict_the_schema_are_repaired_and_reported() {
        let api: openapiv3::OpenAPI = serde_json::from_value(json!({
            "openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"Item": {"type": "object", "required": ["name", "kind"], "properties": {
                "name": {"type": "string"}, "count": {"type": "integer"}, "kind": {"type": "string", "enum": ["A", "B"]},
                "tags": {"type": "array", "items": {"type": "string"}}}}}}
        }))
        .unwrap();
        let types = Types::with_hand_written(&api, &[]).unwrap();
        let ty = Ty::Named("Item".into());
        let mut repairs = Vec::new();
        let fitted = conform(
            &types,
            &json!({"name": "x", "count": "12", "tags": {"a": 1}}),
            &ty,
            "Item",
            &mut repairs,
        );
        assert_eq!(fitted, json!({"name": "x", "count": "12", "tags": ["string"], "kind": "A"}));
        assert_eq!(repairs, ["Item.kind: required, missing", "Item.tags: an object for a list"]);
        let mut none = Vec::new();
        conform(&types, &json!({"name": "x", "kind": "C", "extra": true}), &ty, "Item", &mut none);
        assert!(none.is_empty(), "a new enum value and an unknown member fit: {none:?}");
    }
}
