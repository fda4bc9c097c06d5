//! The function table a template is parsed and rendered with: Go's builtins, plus whichever library
//! the caller adds (Loki's, or Prometheus's alert and rule functions).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::funcs;
use crate::value::Value;

/// A template function: receives the evaluated arguments (a piped value comes last) and returns a
/// value or an error message, which the template reports as "error calling NAME: message".
pub type Func = fn(&[Value]) -> Result<Value, String>;

/// A template function that captures state, such as Prometheus's `query` (which needs the caller's
/// query engine) or `now` (the rule's evaluation time); same contract as [`Func`].
pub type ClosureFunc = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// How a name in the table is evaluated.
#[derive(Clone)]
pub(crate) enum Entry {
    /// An ordinary function.
    Func(Func),
    /// A function with captured state.
    Closure(ClosureFunc),
    /// Go's `and`: evaluates arguments lazily and stops at the first false one.
    And,
    /// Go's `or`: evaluates arguments lazily and stops at the first true one.
    Or,
    /// A niladic name reading the root data's key of the same name (Loki's `__line__`).
    DataKey,
}

/// Name → function table; cheap to clone, safe to share between threads.
#[derive(Clone)]
pub struct Functions {
    // Shared so that a clone per query or per rule costs a reference count, not a table copy;
    // the builders copy on write.
    map: Arc<HashMap<String, Entry>>,
}

impl Functions {
    /// Go's builtins: and, or, not, len, index, print, printf, println, eq, ne, lt, le, gt, ge,
    /// urlquery, html, js.
    pub fn builtin() -> Self {
        let mut map = HashMap::new();
        map.insert("and".to_owned(), Entry::And);
        map.insert("or".to_owned(), Entry::Or);
        for (name, f) in funcs::builtin::FUNCS {
            map.insert((*name).to_owned(), Entry::Func(*f));
        }
        Functions { map: Arc::new(map) }
    }

    fn insert(mut self, name: &str, entry: Entry) -> Self {
        Arc::make_mut(&mut self.map).insert(name.to_owned(), entry);
        self
    }

    /// Adds or replaces a function.
    pub fn with(self, name: &str, f: Func) -> Self {
        self.insert(name, Entry::Func(f))
    }

    /// Adds or replaces a function that captures state (a closure).
    pub fn with_closure<F>(self, name: &str, f: F) -> Self
    where
        F: Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
    {
        self.insert(name, Entry::Closure(Arc::new(f)))
    }

    /// Declares `name` as a niladic identifier that evaluates to the root data's `name` key
    /// (`{{ __line__ }}` ≡ `{{ $.__line__ }}`); missing keys read as "".
    pub fn with_data_key(self, name: &str) -> Self {
        self.insert(name, Entry::DataKey)
    }

    /// Go's builtins plus every LogQL template function, and the `__line__` / `__timestamp__`
    /// identifiers, which read the root map's keys of those names (see the crate docs).
    pub fn loki() -> Self {
        let mut f = Functions::builtin();
        for table in [
            funcs::strings::FUNCS,
            funcs::math::FUNCS,
            funcs::date::FUNCS,
            funcs::regex::FUNCS,
        ] {
            for (name, func) in table {
                f = f.with(name, *func);
            }
        }
        f.with_data_key("__line__").with_data_key("__timestamp__")
    }

    /// Whether `name` is defined.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.map.get(name)
    }
}

/// Lists the names only; function pointers and closures say nothing useful.
impl fmt::Debug for Functions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.map.keys().collect();
        names.sort();
        f.debug_struct("Functions").field("names", &names).finish()
    }
}
