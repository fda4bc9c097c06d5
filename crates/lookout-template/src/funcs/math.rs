//! LogQL's maths: Sprig's integer functions (arguments converted with spf13/cast, wrapping like Go's
//! int64) and float functions. Sprig computes `addf`/`subf`/`mulf`/`divf` in decimal arithmetic
//! (shopspring/decimal), so `addf 0.1 0.2` is 0.3; [`Dec`] reproduces that exactly while the
//! numbers fit in an i128 and falls back to f64 beyond.

use super::{Table, at_least, int_arg, to_float64, to_int64, want};
use crate::value::Value;

/// Maths functions.
pub(crate) const FUNCS: Table = &[
    ("add", add),
    ("sub", sub),
    ("mul", mul),
    ("div", div),
    ("mod", modulo),
    ("max", max),
    ("min", min),
    ("addf", addf),
    ("subf", subf),
    ("mulf", mulf),
    ("divf", divf),
    ("maxf", maxf),
    ("minf", minf),
    ("ceil", ceil),
    ("floor", floor),
    ("round", round),
    ("int", int),
    ("float64", float64),
];

fn add(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(
        args.iter().fold(0i64, |a, b| a.wrapping_add(to_int64(b))),
    ))
}

fn sub(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    Ok(Value::Int(
        to_int64(&args[0]).wrapping_sub(to_int64(&args[1])),
    ))
}

fn mul(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    Ok(Value::Int(
        args.iter().fold(1i64, |a, b| a.wrapping_mul(to_int64(b))),
    ))
}

fn div(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    let (a, b) = (to_int64(&args[0]), to_int64(&args[1]));
    if b == 0 {
        return Err("runtime error: integer divide by zero".into());
    }
    Ok(Value::Int(a.wrapping_div(b)))
}

fn modulo(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    let (a, b) = (to_int64(&args[0]), to_int64(&args[1]));
    if b == 0 {
        return Err("runtime error: integer divide by zero".into());
    }
    Ok(Value::Int(a.wrapping_rem(b)))
}

fn max(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    Ok(Value::Int(args.iter().map(to_int64).max().unwrap_or(0)))
}

fn min(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    Ok(Value::Int(args.iter().map(to_int64).min().unwrap_or(0)))
}

/// A decimal m × 10^e, what shopspring/decimal holds.
#[derive(Clone, Copy, Debug)]
struct Dec {
    m: i128,
    e: i32,
}

/// Digits shopspring keeps after the point when dividing.
const DIVISION_PRECISION: i32 = 16;

fn pow10(n: i32) -> Option<i128> {
    10i128.checked_pow(u32::try_from(n).ok()?)
}

impl Dec {
    /// The shortest decimal that round-trips to `f`, as `decimal.NewFromFloat`.
    fn from_f64(f: f64) -> Result<Dec, String> {
        if !f.is_finite() {
            return Err(format!("cannot create a Decimal from {f}"));
        }
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let frac_digits = mant.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
        let m: i128 = mant.replace('.', "").parse().unwrap_or(0);
        Ok(Dec {
            m,
            e: exp - frac_digits,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, self.e).parse().unwrap_or(f64::NAN)
    }

    /// Both mantissas at the smaller exponent.
    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let e = a.e.min(b.e);
        Some((
            a.m.checked_mul(pow10(a.e - e)?)?,
            b.m.checked_mul(pow10(b.e - e)?)?,
            e,
        ))
    }

    fn add(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, e) = Dec::align(a, b)?;
        Some(Dec {
            m: x.checked_add(y)?,
            e,
        })
    }

    fn sub(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, e) = Dec::align(a, b)?;
        Some(Dec {
            m: x.checked_sub(y)?,
            e,
        })
    }

    fn mul(a: Dec, b: Dec) -> Option<Dec> {
        Some(Dec {
            m: a.m.checked_mul(b.m)?,
            e: a.e.checked_add(b.e)?,
        })
    }

    /// a / b rounded half away from zero to 16 fractional digits (`decimal.Div`).
    fn div(a: Dec, b: Dec) -> Option<Dec> {
        let k = a.e - b.e + DIVISION_PRECISION;
        let (num, den) = if k >= 0 {
            (a.m.checked_mul(pow10(k)?)?, b.m)
        } else {
            (a.m, b.m.checked_mul(pow10(-k)?)?)
        };
        let (q, r) = (num / den, num % den);
        let away = if (num < 0) == (den < 0) { 1 } else { -1 };
        let q = if r.unsigned_abs() * 2 >= den.unsigned_abs() {
            q + away
        } else {
            q
        };
        Some(Dec {
            m: q,
            e: -DIVISION_PRECISION,
        })
    }
}

/// Folds the arguments with a decimal operation, or the f64 one if the decimal overflows.
fn fold_dec(
    first: f64,
    rest: &[Value],
    dec: fn(Dec, Dec) -> Option<Dec>,
    float: fn(f64, f64) -> f64,
) -> Result<Value, String> {
    let mut acc = Some(Dec::from_f64(first)?);
    let mut acc_f = first;
    for v in rest {
        let x = to_float64(v);
        acc = match acc {
            Some(a) => dec(a, Dec::from_f64(x)?),
            None => None,
        };
        acc_f = float(acc_f, x);
    }
    Ok(Value::Float(acc.map_or(acc_f, Dec::to_f64)))
}

fn addf(args: &[Value]) -> Result<Value, String> {
    fold_dec(0.0, args, Dec::add, |a, b| a + b)
}

fn subf(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    fold_dec(to_float64(&args[0]), &args[1..], Dec::sub, |a, b| a - b)
}

fn mulf(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    fold_dec(to_float64(&args[0]), &args[1..], Dec::mul, |a, b| a * b)
}

fn divf(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    if args[1..].iter().any(|v| to_float64(v) == 0.0) {
        return Err("decimal division by 0".into());
    }
    fold_dec(to_float64(&args[0]), &args[1..], Dec::div, |a, b| a / b)
}

fn maxf(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    Ok(Value::Float(
        args[1..]
            .iter()
            .fold(to_float64(&args[0]), |a, b| go_max(a, to_float64(b))),
    ))
}

fn minf(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    Ok(Value::Float(
        args[1..]
            .iter()
            .fold(to_float64(&args[0]), |a, b| go_min(a, to_float64(b))),
    ))
}

/// Go's `math.Max`: NaN wins.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN wins.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn ceil(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Float(to_float64(&args[0]).ceil()))
}

fn floor(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Float(to_float64(&args[0]).floor()))
}

/// `round x places [roundOn]`: Sprig rounds up when the fraction at `places` is ≥ roundOn (0.5).
fn round(args: &[Value]) -> Result<Value, String> {
    if !(2..=3).contains(&args.len()) {
        return Err(format!(
            "wrong number of args: want 2 or 3 got {}",
            args.len()
        ));
    }
    let val = to_float64(&args[0]);
    let places = int_arg(&args[1])?;
    let round_on = args.get(2).map_or(0.5, to_float64);
    let pow = 10f64.powf(places as f64);
    let digit = pow * val;
    let r = if digit.fract() >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(r / pow))
}

fn int(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Int(to_int64(&args[0])))
}

fn float64(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Float(to_float64(&args[0])))
}
