//! Scene errors that point at the file, line and column of the fault.

use std::fmt;
use std::ops::Range;

/// A problem in a scene file, printed as `FILE:LINE:COL: message`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct SceneError {
    pub file: String,
    /// 1-based; 0 when the fault has no place in the file (e.g. it cannot be read).
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for SceneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

/// Turns byte spans into line/column positions of one source text.
pub(crate) struct Locator<'a> {
    pub file: &'a str,
    pub src: &'a str,
}

impl Locator<'_> {
    pub fn at(&self, span: Option<Range<usize>>, message: impl Into<String>) -> SceneError {
        let (line, col) = match span {
            Some(s) => line_col(self.src, s.start),
            None => (0, 0),
        };
        SceneError {
            file: self.file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of byte offset `pos`.
pub fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let s = "a = 1\nbb = 2\n";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 6), (2, 1));
        assert_eq!(line_col(s, 11), (2, 6));
    }
}
