//! Dense column-major design matrix.
//!
//! Column-major storage is chosen because every hot loop of coordinate descent
//! (`x_j' r`, `r -= d * v * x_j`, `sum v x_j^2`) walks one column; it also
//! matches R's `as.vector()` order, so oracle fixtures load without copying.

use super::GlmnetError;

/// An `n × p` matrix of `f64`, stored column by column: element `(i, j)` is
/// `data[j * n + i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    n: usize,
    p: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// Wraps a column-major vector (R's `as.vector(x)` order).
    pub fn from_col_major(n: usize, p: usize, data: Vec<f64>) -> Result<Matrix, GlmnetError> {
        if n.checked_mul(p) != Some(data.len()) {
            return Err(GlmnetError::DimensionMismatch {
                what: "matrix data length",
                expected: n.saturating_mul(p),
                found: data.len(),
            });
        }
        Ok(Matrix { n, p, data })
    }

    /// Builds a matrix from its columns; every column must have the same length.
    pub fn from_columns(columns: &[Vec<f64>]) -> Result<Matrix, GlmnetError> {
        let p = columns.len();
        let n = columns.first().map_or(0, |c| c.len());
        let mut data = Vec::with_capacity(n * p);
        for c in columns {
            if c.len() != n {
                return Err(GlmnetError::DimensionMismatch {
                    what: "column length",
                    expected: n,
                    found: c.len(),
                });
            }
            data.extend_from_slice(c);
        }
        Ok(Matrix { n, p, data })
    }

    /// Builds a matrix from rows (convenience for small hand-written cases).
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Matrix, GlmnetError> {
        let n = rows.len();
        let p = rows.first().map_or(0, |r| r.len());
        let mut data = vec![0.0; n * p];
        for (i, r) in rows.iter().enumerate() {
            if r.len() != p {
                return Err(GlmnetError::DimensionMismatch {
                    what: "row length",
                    expected: p,
                    found: r.len(),
                });
            }
            for (j, &v) in r.iter().enumerate() {
                data[j * n + i] = v;
            }
        }
        Ok(Matrix { n, p, data })
    }

    /// Number of rows (observations).
    pub fn nrows(&self) -> usize {
        self.n
    }

    /// Number of columns (predictors).
    pub fn ncols(&self) -> usize {
        self.p
    }

    /// Element `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[j * self.n + i]
    }

    /// Column `j` as a contiguous slice.
    pub fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.n..(j + 1) * self.n]
    }

    /// The column-major data.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The rows listed in `rows`, in that order (used to split folds).
    pub fn select_rows(&self, rows: &[usize]) -> Matrix {
        let m = rows.len();
        let mut data = Vec::with_capacity(m * self.p);
        for j in 0..self.p {
            let c = self.col(j);
            data.extend(rows.iter().map(|&i| c[i]));
        }
        Matrix {
            n: m,
            p: self.p,
            data,
        }
    }

    /// Error if any element is NaN or infinite.
    pub(super) fn check_finite(&self) -> Result<(), GlmnetError> {
        match self.data.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(k) => Err(GlmnetError::NonFinite {
                what: "x",
                index: k,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_agree() {
        let a = Matrix::from_columns(&[vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]).unwrap();
        let b = Matrix::from_col_major(3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let c = Matrix::from_rows(&[vec![1.0, 4.0], vec![2.0, 5.0], vec![3.0, 6.0]]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.get(2, 1), 6.0);
        assert_eq!(a.col(1), &[4.0, 5.0, 6.0]);
        let s = a.select_rows(&[2, 0]);
        assert_eq!(s.as_slice(), &[3.0, 1.0, 6.0, 4.0]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(Matrix::from_col_major(2, 2, vec![1.0; 3]).is_err());
        assert!(Matrix::from_columns(&[vec![1.0], vec![1.0, 2.0]]).is_err());
        assert!(Matrix::from_rows(&[vec![1.0], vec![1.0, 2.0]]).is_err());
        let m = Matrix::from_col_major(1, 2, vec![1.0, f64::NAN]).unwrap();
        assert!(m.check_finite().is_err());
    }
}
