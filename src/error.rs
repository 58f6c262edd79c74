//! Errors: one enum of stable kinds (SPEC §2 `error_kind`) plus a message; errors about one
//! field or limit carry it as [`ErrorContext`] and get their message from one function.

use core::fmt;

/// The stable, documented error kinds. Hosts surface `as_str()` unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input is not valid JSON (or a JSONL line is not).
    BadJson,
    /// The JSON is well-formed but a field is missing, has the wrong type or breaks a rule.
    BadJob,
    /// The font could not be found (unknown handle, unreadable path, no font given).
    FontNotFound,
    /// The font bytes could not be parsed (truncated, corrupt, not a font, bad face index).
    FontParse,
    /// A documented limit of the engine was exceeded.
    LimitExceeded,
    /// A sandbox limit stopped the job (fuel, deadline, memory cap); set by hosts.
    ResourceLimit,
    /// A bug in haforu: a trap or an impossible state.
    Internal,
    /// A host's queue is full, or a deadline passed while the job waited; set by hosts.
    Overloaded,
}

impl ErrorKind {
    /// Every kind, in documentation order.
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::BadJson,
        ErrorKind::BadJob,
        ErrorKind::FontNotFound,
        ErrorKind::FontParse,
        ErrorKind::LimitExceeded,
        ErrorKind::ResourceLimit,
        ErrorKind::Internal,
        ErrorKind::Overloaded,
    ];

    /// The ABI code: the 1-based position in [`ALL`](Self::ALL) (`wasm/README.md`).
    pub fn code(self) -> u32 {
        Self::ALL.iter().position(|k| *k == self).expect("in ALL") as u32 + 1
    }

    /// The kind of an ABI code, if it is one.
    pub fn from_code(code: u32) -> Option<ErrorKind> {
        Self::ALL.get((code as usize).checked_sub(1)?).copied()
    }

    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadJson => "bad_json",
            ErrorKind::BadJob => "bad_job",
            ErrorKind::FontNotFound => "font_not_found",
            ErrorKind::FontParse => "font_parse",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::ResourceLimit => "resource_limit",
            ErrorKind::Internal => "internal",
            ErrorKind::Overloaded => "overloaded",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with its kind and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The stable kind.
    pub kind: ErrorKind,
    /// What went wrong, naming the field, value or limit.
    pub message: String,
    /// The field, value and limit the error is about, when it is about one; `message` was
    /// written from them (see [`Error::field`], [`Error::over_limit`]).
    pub context: Option<Box<ErrorContext>>,
}

/// What an error is about: one job field (or measured thing), the value it had, the limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorContext {
    /// The field, as a path (`font.size`, `sweep[2].wght`), or what was measured (`job JSON`).
    pub field: String,
    /// The offending value, as text, when the message shows it.
    pub value: Option<String>,
    /// The limit broken (`limit_exceeded`), as text.
    pub limit: Option<String>,
}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            context: None,
        }
    }

    /// `field` breaks a rule: `{field}: {problem}` (`font.size: must be a number, not a
    /// string`).
    pub fn field(kind: ErrorKind, field: impl Into<String>, problem: impl fmt::Display) -> Self {
        Self::with_context(kind, field.into(), None, None, &problem.to_string())
    }

    /// `field` has a value that breaks a rule: ``{field}: `{value}` {problem}``
    /// (``rendering.format: `gif` is unknown; …``).
    pub fn field_value(
        kind: ErrorKind,
        field: impl Into<String>,
        value: impl fmt::Display,
        problem: impl fmt::Display,
    ) -> Self {
        let value = Some(value.to_string());
        Self::with_context(kind, field.into(), value, None, &problem.to_string())
    }

    /// A required field is absent: `{field}: missing`.
    pub fn missing(field: impl Into<String>) -> Self {
        Self::field(ErrorKind::BadJob, field, "missing")
    }

    /// `what` measures `value` (in `unit`), over `limit`: `{what}: {value} {unit}; the limit is
    /// {limit}` (`text.content: 10001 UTF-8 bytes; the limit is 10000`), `limit_exceeded`.
    pub fn over_limit(
        what: impl Into<String>,
        value: impl fmt::Display,
        limit: impl fmt::Display,
        unit: &str,
    ) -> Self {
        let (value, limit) = (value.to_string(), limit.to_string());
        let value = match unit {
            "" => value,
            u => format!("{value} {u}"),
        };
        Self::with_context(
            ErrorKind::LimitExceeded,
            what.into(),
            Some(value),
            Some(limit),
            "",
        )
    }

    /// `what` is over the work budget `name` (a constant of `limits.rs`, whose value is
    /// `limit`): `{what}: {value}; the limit is {limit} ({name})` (`glyph 7: more than 4000000
    /// raster cells; the limit is 4000000 (MAX_CELLS_PER_GLYPH)`), `limit_exceeded`.
    pub fn over_budget(
        what: impl Into<String>,
        value: impl fmt::Display,
        limit: impl fmt::Display,
        name: &str,
    ) -> Self {
        Self::over_limit(what, value, format!("{limit} ({name})"), "")
    }

    /// Append advice to the message: `{message}; {hint}`.
    pub fn hint(mut self, hint: &str) -> Self {
        self.message = format!("{}; {hint}", self.message);
        self
    }

    /// The one place a structured message is written.
    fn with_context(
        kind: ErrorKind,
        field: String,
        value: Option<String>,
        limit: Option<String>,
        problem: &str,
    ) -> Self {
        let message = match (&value, &limit) {
            (Some(v), Some(l)) => format!("{field}: {v}; the limit is {l}"),
            (Some(v), None) => format!("{field}: `{v}` {problem}"),
            (None, _) => format!("{field}: {problem}"),
        };
        Error {
            kind,
            message,
            context: Some(Box::new(ErrorContext {
                field,
                value,
                limit,
            })),
        }
    }

    pub(crate) fn bad_job(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::BadJob, message)
    }

    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::LimitExceeded, message)
    }

    pub(crate) fn font_parse(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::FontParse, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}
