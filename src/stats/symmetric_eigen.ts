/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations (accurate to a few
 * ulps of the largest eigenvalue; meant for the k x k covariance matrices of a handful of models).
 */

/** Eigenvalues (ascending) and unit eigenvectors (`vectors[j]` belongs to `values[j]`). */
export interface SymmetricEigen {
  values: number[];
  vectors: number[][];
}

/**
 * Eigenvalues and eigenvectors of the symmetric matrix `a` (row-major rows; only symmetry is
 * assumed, not definiteness).
 *
 * @example
 * symmetricEigen([[2, 1], [1, 2]]).values; // returns [1, 3]
 */
export function symmetricEigen(a: readonly (readonly number[])[]): SymmetricEigen {
  const k = a.length;
  for (const row of a) if (row.length !== k) throw new Error(`symmetricEigen: expected a square matrix, got a row of ${row.length} in a ${k}-row matrix`);
  const m = a.map((row) => row.slice());
  const v: number[][] = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += m[p][q] * m[p][q];
    if (off === 0) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        if (m[p][q] === 0) continue;
        // The rotation that zeroes m[p][q] (Golub & Van Loan, symmetric Schur decomposition).
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const mrp = m[r][p];
          const mrq = m[r][q];
          m[r][p] = c * mrp - s * mrq;
          m[r][q] = s * mrp + c * mrq;
        }
        for (let r = 0; r < k; r++) {
          const mpr = m[p][r];
          const mqr = m[q][r];
          m[p][r] = c * mpr - s * mqr;
          m[q][r] = s * mpr + c * mqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r][p];
          const vrq = v[r][q];
          v[r][p] = c * vrp - s * vrq;
          v[r][q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: k }, (_, i) => i).sort((i, j) => m[i][i] - m[j][j]);
  return { values: order.map((i) => m[i][i]), vectors: order.map((i) => v.map((row) => row[i])) };
}
