fn main() {
    std::process::exit(canary::run());
}
