//! C ABI for koosign (see bindings-c/README.md).
