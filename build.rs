//! Records the versions of DataFusion and Arrow this binary was built with, read from
//! Cargo.lock, so `pipeline.lock` can say exactly which engine produced each output.

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let version_of = |name: &str| -> String {
        let needle = format!("name = \"{name}\"\nversion = \"");
        lock.find(&needle)
            .map(|i| {
                let rest = &lock[i + needle.len()..];
                rest[..rest.find('"').unwrap_or(0)].to_string()
            })
            .unwrap_or_else(|| "unknown".to_string())
    };
    println!(
        "cargo:rustc-env=CANARY_DATAFUSION_VERSION={}",
        version_of("datafusion")
    );
    println!(
        "cargo:rustc-env=CANARY_ARROW_VERSION={}",
        version_of("arrow")
    );
}
