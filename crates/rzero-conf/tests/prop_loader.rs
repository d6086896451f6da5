//! Property tests of the loader (the fast pass beside `fuzz/`): any text is a config or
//! an error, never a panic; every duration form either parses or says why.

use std::time::Duration;

use proptest::prelude::*;

#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct Conf {
    #[serde(default)]
    name: String,
    #[serde(default)]
    port: u16,
    #[serde(default, with = "rzero_conf::duration")]
    timeout: Duration,
    #[serde(default)]
    hosts: Vec<String>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_loads_or_fails_cleanly(text in "(Name|Port|Timeout|Hosts|[a-z]{1,3}|:|-| |\n|\\$\\{[A-Z]{0,3}\\}|[0-9.e+-]{1,6}|\\[|\\]|'|\"|&a|\\*a){0,40}") {
        let _ = rzero_conf::Loader::new().load_str::<Conf>("p.yaml", &text);
    }

    #[test]
    fn any_number_as_timeout_parses_or_fails_cleanly(n in any::<f64>()) {
        let yaml = format!("Timeout: {n:e}\n");
        let r = rzero_conf::Loader::new().load_str::<Conf>("p.yaml", &yaml);
        if n.is_finite() && (0.0..=3.1536e10).contains(&n) {
            prop_assert!(r.is_ok(), "{yaml}: {:?}", r.err().map(|e| e.to_string()));
        } else if let Err(e) = r {
            prop_assert!(e.to_string().contains("Timeout") || e.to_string().contains("p.yaml"), "{e}");
        }
    }

    #[test]
    fn milliseconds_with_a_unit_round_trip(ms in 0u64..31_536_000_000) {
        prop_assert_eq!(rzero_conf::duration::parse(&format!("{ms}ms")), Ok(Duration::from_millis(ms)));
    }
}
