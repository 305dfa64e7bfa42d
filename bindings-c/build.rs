//! Gives the shared library a SONAME (libkoosign.so.MAJOR.MINOR while the
//! major version is 0, libkoosign.so.MAJOR afterwards), as installed by
//! `make install`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
        let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_else(|_| "0".into());
        let soname = if major == "0" {
            format!("libkoosign.so.0.{minor}")
        } else {
            format!("libkoosign.so.{major}")
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
}
