//! The pprof profile format (`perftools.profiles.Profile`, google/pprof's
//! `proto/profile.proto`), as prost messages, and the encoding of a CPU report into it.
//!
//! Why by hand: the `pprof` crate's own encoder (its `prost-codec` feature) is built on
//! prost 0.12 and runs prost-build at compile time, while the workspace is on prost 0.14
//! (tonic 0.14). Seven messages with derive are less than a second prost and a build
//! script, and they let the tests (and any tool) decode what `/debug/pprof/profile` serves.
//! Field numbers are profile.proto's; `Mapping` and the fields rzero never writes are left
//! out (a decoder skips what it does not know, and `pprof` needs no mapping when every
//! location carries its function).

/// A profile: samples, and the tables their ids and string indices point into.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Profile {
    /// What each value of a sample counts: `samples/count`, `cpu/nanoseconds`.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// One entry per distinct stack (and thread).
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// The code locations samples point at; ids start at 1.
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// The functions locations point at; ids start at 1.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Every string of the profile; index 0 is `""`, as the format requires.
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// When the profile started, in nanoseconds since the Unix epoch.
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// How long it ran.
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// What `period` is counted in: `cpu/nanoseconds`.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// Nanoseconds between two samples.
    #[prost(int64, tag = "12")]
    pub period: i64,
}

/// A kind of value and its unit, as string-table indices.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ValueType {
    /// `samples`, `cpu`.
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// `count`, `nanoseconds`.
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// A stack and what was measured on it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// Location ids, the leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// One value per `sample_type`.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// The thread it ran on.
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// A key and a string value, as string-table indices.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Label {
    /// `thread`.
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// The thread's name.
    #[prost(int64, tag = "2")]
    pub str: i64,
}

/// A place in the code: one line, or several when functions were inlined into it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    /// Its id (from 1).
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Inlined callees first, the function they were inlined into last.
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
}

/// A line of a function.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct Line {
    /// The function's id.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// The line number, 0 when the binary has no line tables.
    #[prost(int64, tag = "2")]
    pub line: i64,
}

/// A function, by names and file (string-table indices).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Function {
    /// Its id (from 1).
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// The demangled name.
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// The symbol as linked (mangled).
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// The source file.
    #[prost(int64, tag = "4")]
    pub filename: i64,
}

// === impl Profile ===

impl Profile {
    /// The string at `index` of the string table, `""` when out of range.
    pub fn string(&self, index: i64) -> &str {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.string_table.get(i))
            .map_or("", String::as_str)
    }
}

#[cfg(feature = "pprof")]
pub(crate) use encode::encode;

#[cfg(feature = "pprof")]
mod encode {
    use std::collections::HashMap;
    use std::time::UNIX_EPOCH;

    use super::*;

    /// Builds the tables while walking the report: each string, function and location
    /// once, ids in order of first use.
    #[derive(Default)]
    struct Tables {
        strings: HashMap<String, i64>,
        string_table: Vec<String>,
        functions: HashMap<(String, String), u64>,
        function: Vec<Function>,
        locations: HashMap<Vec<Line>, u64>,
        location: Vec<Location>,
    }

    impl Tables {
        fn string(&mut self, s: &str) -> i64 {
            if let Some(&i) = self.strings.get(s) {
                return i;
            }
            let i = i64::try_from(self.string_table.len()).unwrap_or(i64::MAX);
            self.string_table.push(s.to_owned());
            self.strings.insert(s.to_owned(), i);
            i
        }

        fn function(&mut self, symbol: &pprof::Symbol) -> u64 {
            let (name, file) = (symbol.name(), symbol.filename().into_owned());
            if let Some(&id) = self.functions.get(&(name.clone(), file.clone())) {
                return id;
            }
            let id = self.function.len() as u64 + 1;
            let f = Function {
                id,
                name: self.string(&name),
                system_name: self.string(&symbol.sys_name()),
                filename: self.string(&file),
            };
            self.function.push(f);
            self.functions.insert((name, file), id);
            id
        }

        /// A frame is one location; its symbols are the inlined chain, callee first.
        fn location(&mut self, frame: &[pprof::Symbol]) -> u64 {
            let lines: Vec<Line> = frame
                .iter()
                .map(|s| Line {
                    function_id: self.function(s),
                    line: i64::from(s.lineno()),
                })
                .collect();
            if let Some(&id) = self.locations.get(&lines) {
                return id;
            }
            let id = self.location.len() as u64 + 1;
            self.location.push(Location {
                id,
                line: lines.clone(),
            });
            self.locations.insert(lines, id);
            id
        }
    }

    /// `report` as a pprof profile with Go's two sample types (`samples/count`,
    /// `cpu/nanoseconds`) and a `thread` label, as `go tool pprof` expects of a CPU profile.
    pub(crate) fn encode(report: &pprof::Report) -> Profile {
        let mut t = Tables::default();
        t.string("");
        let samples_count = ValueType {
            r#type: t.string("samples"),
            unit: t.string("count"),
        };
        let cpu_ns = ValueType {
            r#type: t.string("cpu"),
            unit: t.string("nanoseconds"),
        };
        let thread = t.string("thread");
        let frequency = i64::from(report.timing.frequency.max(1));
        let period = 1_000_000_000 / frequency;
        let mut sample = Vec::with_capacity(report.data.len());
        for (frames, &count) in &report.data {
            let location_id = frames.frames.iter().map(|f| t.location(f)).collect();
            let count = count as i64;
            sample.push(Sample {
                location_id,
                value: vec![count, count.saturating_mul(period)],
                label: vec![Label {
                    key: thread,
                    str: t.string(&frames.thread_name_or_id()),
                }],
            });
        }
        let time_nanos = report
            .timing
            .start_time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        Profile {
            sample_type: vec![samples_count, cpu_ns],
            sample,
            location: t.location,
            function: t.function,
            string_table: t.string_table,
            time_nanos,
            duration_nanos: i64::try_from(report.timing.duration.as_nanos()).unwrap_or(i64::MAX),
            period_type: Some(cpu_ns),
            period,
        }
    }
}
