//! Python binding (pyo3) for koosign.
