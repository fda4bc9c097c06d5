//! PromQL functions by family. The pure numeric kernels live in `range`, `histogram` and `math`;
//! the engine dispatches to them.

pub mod histogram;
pub mod math;
pub mod range;
