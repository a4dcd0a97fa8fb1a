use std::fmt;

/// The `DOMException` name of a failure, as the Web Crypto spec assigns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorName {
    /// The operation failed for a reason specific to the algorithm (bad tag,
    /// bad padding, wrong length).
    Operation,
    /// The key data is malformed or does not fit the algorithm.
    Data,
    /// The algorithm or parameter is not supported.
    NotSupported,
    /// The key cannot be used this way.
    InvalidAccess,
}

impl ErrorName {
    /// The `DOMException` name, e.g. `OperationError`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::Operation => "OperationError",
            ErrorName::Data => "DataError",
            ErrorName::NotSupported => "NotSupportedError",
            ErrorName::InvalidAccess => "InvalidAccessError",
        }
    }
}

/// A failed operation: a `DOMException` name and a message for the guest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", name.as_str())]
pub struct CryptoError {
    /// Which exception.
    pub name: ErrorName,
    /// What went wrong, without key material.
    pub message: String,
}

impl CryptoError {
    pub(crate) fn new(name: ErrorName, message: impl fmt::Display) -> Self {
        Self {
            name,
            message: message.to_string(),
        }
    }

    pub(crate) fn operation(message: impl fmt::Display) -> Self {
        Self::new(ErrorName::Operation, message)
    }

    pub(crate) fn data(message: impl fmt::Display) -> Self {
        Self::new(ErrorName::Data, message)
    }

    pub(crate) fn not_supported(message: impl fmt::Display) -> Self {
        Self::new(ErrorName::NotSupported, message)
    }
}
