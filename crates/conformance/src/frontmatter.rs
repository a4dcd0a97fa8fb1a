//! test262's YAML front matter: only the fields a runner needs, read by a
//! small parser for the subset of YAML the suite uses.

/// `negative:` metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negative {
    /// `parse`, `resolution` or `runtime`.
    pub phase: String,
    /// The expected error constructor's name.
    pub kind: String,
}

/// What a test declares about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// Harness files to evaluate before the test.
    pub includes: Vec<String>,
    /// `onlyStrict`, `noStrict`, `module`, `raw`, `async`, ...
    pub flags: Vec<String>,
    /// Feature tags.
    pub features: Vec<String>,
    /// Set for tests that must throw.
    pub negative: Option<Negative>,
}

impl Meta {
    /// Whether a flag is present.
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// Parses the `/*--- ... ---*/` block of a test file.
pub fn parse(source: &str) -> Meta {
    let mut meta = Meta::default();
    let Some(start) = source.find("/*---") else {
        return meta;
    };
    let Some(len) = source[start..].find("---*/") else {
        return meta;
    };
    let yaml = &source[start + 5..start + len];
    let lines: Vec<&str> = yaml.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.starts_with(' ') || line.starts_with('\t') {
            continue;
        }
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let rest = rest.trim();
        match key.trim() {
            "includes" => meta.includes = list(rest, &lines, &mut i),
            "flags" => meta.flags = list(rest, &lines, &mut i),
            "features" => meta.features = list(rest, &lines, &mut i),
            "negative" => {
                let (mut phase, mut kind) = (String::new(), String::new());
                while i < lines.len() && (lines[i].starts_with(' ') || lines[i].starts_with('\t')) {
                    if let Some((k, v)) = lines[i].trim().split_once(':') {
                        match k.trim() {
                            "phase" => phase = v.trim().to_owned(),
                            "type" => kind = v.trim().to_owned(),
                            _ => {}
                        }
                    }
                    i += 1;
                }
                meta.negative = Some(Negative { phase, kind });
            }
            _ => {}
        }
    }
    meta
}

/// An inline `[a, b]` list, or a block list of `- item` lines.
fn list(rest: &str, lines: &[&str], i: &mut usize) -> Vec<String> {
    if let Some(inline) = rest.strip_prefix('[') {
        return inline
            .trim_end_matches(']')
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
    }
    let mut out = Vec::new();
    while *i < lines.len() && lines[*i].trim_start().starts_with("- ") {
        out.push(lines[*i].trim_start()[2..].trim().to_owned());
        *i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inline_and_block_lists_and_negative() {
        let meta = parse(
            "/*---\nesid: x\ndescription: >\n  words: here\nincludes: [compareArray.js, propertyHelper.js]\nflags:\n  - onlyStrict\n  - async\nnegative:\n  phase: parse\n  type: SyntaxError\nfeatures: [BigInt]\n---*/\n",
        );
        assert_eq!(meta.includes, ["compareArray.js", "propertyHelper.js"]);
        assert_eq!(meta.flags, ["onlyStrict", "async"]);
        assert_eq!(meta.features, ["BigInt"]);
        assert_eq!(
            meta.negative,
            Some(Negative {
                phase: "parse".into(),
                kind: "SyntaxError".into()
            })
        );
    }
}
