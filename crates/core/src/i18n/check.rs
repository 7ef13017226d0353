//! The catalog check: what `scripts/check-locales` and the test command run.
//!
//! Fails on a Fluent syntax error, a duplicate key, a message, term or attribute a translation
//! has and English does not, a variable or reference English does not provide for that
//! message, a plural variant the language does not have (it could never be chosen), and a
//! message value English has and the translation lacks. Keys a translation lacks are not
//! errors: they fall back to English, and the check prints them.
//!
//! Test-only (declared under `#[cfg(test)]` in `i18n.rs`): the catalogs are compiled into the
//! binaries, so checking them whenever the tests run is enough, and nothing here ships.

use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast;
use fluent_syntax::parser;

/// One message or term (`-name`) of a catalog.
#[derive(Debug, Default)]
pub struct Entry {
    has_value: bool,
    attributes: BTreeSet<String>,
    /// `$name` for every variable its patterns use.
    variables: BTreeSet<String>,
    /// Messages and terms it refers to.
    references: BTreeSet<String>,
    /// Identifier keys of select expressions that look like plural selections.
    plural_keys: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct Catalog {
    pub entries: BTreeMap<String, Entry>,
    /// Syntax errors and duplicate keys.
    pub errors: Vec<String>,
}

/// What a translation lacks (falls back to English) and what is wrong with it.
#[derive(Debug, Default)]
pub struct Report {
    pub missing: Vec<String>,
    pub errors: Vec<String>,
}

/// CLDR plural categories of the catalog languages.
fn plural_categories(tag: &str) -> &'static [&'static str] {
    match tag.split('-').next() {
        Some("ar") => &["zero", "one", "two", "few", "many", "other"],
        Some("zh" | "ja" | "ko") => &["other"],
        _ => &["one", "other"],
    }
}

const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

fn line_of(source: &str, offset: usize) -> usize {
    source
        .get(..offset)
        .map_or(0, |s| s.bytes().filter(|b| *b == b'\n').count())
        + 1
}

pub fn parse(source: &str) -> Catalog {
    let mut catalog = Catalog::default();
    let resource = match parser::parse(source) {
        Ok(r) => r,
        Err((r, errors)) => {
            for e in errors {
                catalog
                    .errors
                    // The line where the broken entry starts (the error's own position
                    // may be where the parser gave up, a line later).
                    .push(format!(
                        "line {}: {e}",
                        line_of(source, e.slice.as_ref().unwrap_or(&e.pos).start)
                    ));
            }
            r
        }
    };
    for entry in &resource.body {
        let (key, value, attributes) = match entry {
            ast::Entry::Message(m) => (m.id.name.to_owned(), m.value.as_ref(), &m.attributes),
            ast::Entry::Term(t) => (format!("-{}", t.id.name), Some(&t.value), &t.attributes),
            _ => continue,
        };
        let mut e = Entry {
            has_value: value.is_some(),
            ..Entry::default()
        };
        if let Some(p) = value {
            walk_pattern(p, &mut e);
        }
        for a in attributes {
            if !e.attributes.insert(a.id.name.to_owned()) {
                catalog
                    .errors
                    .push(format!("{key}.{}: duplicate attribute", a.id.name));
            }
            walk_pattern(&a.value, &mut e);
        }
        if catalog.entries.insert(key.clone(), e).is_some() {
            catalog.errors.push(format!("{key}: duplicate key"));
        }
    }
    catalog
}

fn walk_pattern(p: &ast::Pattern<&str>, e: &mut Entry) {
    for element in &p.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            walk_expression(expression, e);
        }
    }
}

fn walk_expression(x: &ast::Expression<&str>, e: &mut Entry) {
    match x {
        ast::Expression::Select { selector, variants } => {
            walk_inline(selector, e);
            let keys: Vec<&str> = variants
                .iter()
                .filter_map(|v| match v.key {
                    ast::VariantKey::Identifier { name } => Some(name),
                    ast::VariantKey::NumberLiteral { .. } => None,
                })
                .collect();
            // A plural selection: its named variants are all CLDR categories.
            if !keys.is_empty() && keys.iter().all(|k| CATEGORIES.contains(k)) {
                e.plural_keys.extend(keys.iter().map(|k| (*k).to_owned()));
            }
            for v in variants {
                walk_pattern(&v.value, e);
            }
        }
        ast::Expression::Inline(i) => walk_inline(i, e),
    }
}

fn walk_inline(i: &ast::InlineExpression<&str>, e: &mut Entry) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            e.variables.insert(id.name.to_owned());
        }
        ast::InlineExpression::MessageReference { id, .. } => {
            e.references.insert(id.name.to_owned());
        }
        ast::InlineExpression::TermReference { id, arguments, .. } => {
            e.references.insert(format!("-{}", id.name));
            if let Some(a) = arguments {
                walk_arguments(a, e);
            }
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            walk_arguments(arguments, e);
        }
        ast::InlineExpression::Placeable { expression } => walk_expression(expression, e),
        ast::InlineExpression::StringLiteral { .. }
        | ast::InlineExpression::NumberLiteral { .. } => {}
    }
}

fn walk_arguments(a: &ast::CallArguments<&str>, e: &mut Entry) {
    for p in &a.positional {
        walk_inline(p, e);
    }
    for n in &a.named {
        walk_inline(&n.value, e);
    }
}

/// Checks the translation `tag` (`source`) against English.
pub fn compare(tag: &str, source: &str, english: &Catalog) -> Report {
    let translation = parse(source);
    let mut report = Report {
        errors: translation.errors.clone(),
        ..Report::default()
    };
    let categories = plural_categories(tag);
    for (key, t) in &translation.entries {
        let Some(en) = english.entries.get(key) else {
            report
                .errors
                .push(format!("{key}: not in the English catalog"));
            continue;
        };
        if en.has_value && !t.has_value {
            report.errors.push(format!("{key}: has no value"));
        }
        for a in t.attributes.difference(&en.attributes) {
            report
                .errors
                .push(format!("{key}.{a}: attribute not in the English catalog"));
        }
        for v in t.variables.difference(&en.variables) {
            report
                .errors
                .push(format!("{key}: uses ${v}, which English does not provide"));
        }
        for r in &t.references {
            if !english.entries.contains_key(r) {
                report
                    .errors
                    .push(format!("{key}: refers to {r}, which is not in English"));
            }
        }
        for k in &t.plural_keys {
            if !categories.contains(&k.as_str()) {
                report.errors.push(format!(
                    "{key}: [{k}] is not a plural form of {tag} ({}), so it is never chosen",
                    categories.join(", ")
                ));
            }
        }
    }
    for (key, en) in &english.entries {
        match translation.entries.get(key) {
            None => report.missing.push(key.clone()),
            Some(t) => report.missing.extend(
                en.attributes
                    .difference(&t.attributes)
                    .map(|a| format!("{key}.{a}")),
            ),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check catches each kind of mistake it promises to.
    #[test]
    fn the_catalog_check_catches_mistakes() {
        let english = parse(
            "hello = Hello { $name }\n    .title = Greeting\nunread = { $count ->\n    [one] 1 unread\n   *[other] { $count } unread\n}\n",
        );
        assert!(english.errors.is_empty());
        let errors = |source: &str| compare("it", source, &english).errors;
        assert_eq!(errors("hello = Ciao { $name }\n"), Vec::<String>::new());
        let syntax = errors("hello = Ciao\nunread = { $count\n");
        assert!(
            syntax.len() == 1 && syntax[0].starts_with("line 2:"),
            "{syntax:?}"
        );
        assert_eq!(
            errors("hello = Ciao\nhello = Salve\n"),
            ["hello: duplicate key"]
        );
        assert_eq!(
            errors("bye = Arrivederci\n"),
            ["bye: not in the English catalog"]
        );
        assert_eq!(
            errors("hello = Ciao\n    .tooltip = Saluto\n"),
            ["hello.tooltip: attribute not in the English catalog"]
        );
        assert_eq!(
            errors("hello = Ciao { $nome }\n"),
            ["hello: uses $nome, which English does not provide"]
        );
        assert_eq!(
            errors(
                "unread = { $count ->\n    [one] 1 non letto\n    [few] pochi\n   *[other] { $count } non letti\n}\n"
            ),
            ["unread: [few] is not a plural form of it (one, other), so it is never chosen"]
        );
        assert_eq!(
            errors("hello = { -brand }\n"),
            ["hello: refers to -brand, which is not in English"]
        );
        let missing = compare("it", "hello = Ciao\n", &english).missing;
        assert_eq!(missing, ["hello.title", "unread"]);
    }
}
