//! One test per LogQL string, logic, maths and regex function, mostly from Loki's documentation.

use super::{check, check_err};

#[test]
fn align_left_and_right() {
    check(
        "[{{ alignLeft 5 \"hello world\" }}][{{ alignLeft 5 \"hi\" }}][{{ alignLeft -1 \"x\" }}]",
        "[hello][hi   ][x]",
    );
    check(
        "[{{ alignRight 5 \"hello world\" }}][{{ alignRight 5 \"hi\" }}][{{ alignRight 2 \"hé\" }}]",
        "[world][   hi][hé]",
    );
    check("{{ .app | alignLeft 4 }}|", "api |");
}

#[test]
fn base64() {
    check(
        "{{ b64enc \"hello\" }} {{ \"aGVsbG8=\" | b64dec }}",
        "aGVsbG8= hello",
    );
    check("{{ b64dec \"aGVs\\nbG8=\" }}", "hello");
    check("{{ b64dec \"!!\" }}", "illegal base64 data at input byte 0");
}

#[test]
fn bytes_parses_humanized_sizes() {
    check(
        "{{ bytes \"1 KiB\" }} {{ bytes \"1.5KB\" }} {{ bytes \"10\" }} {{ bytes \"1,000 B\" }} {{ bytes \"2 mib\" }}",
        "1024 1500 10 1000 2.097152e+06",
    );
    check_err("{{ bytes \"1 XB\" }}", "unhandled size name: xb");
    check_err("{{ bytes \"-1\" }}", "invalid syntax");
}

#[test]
fn default_value() {
    check(
        "{{ default \"-\" \"\" }} {{ default \"-\" \"foo\" }} {{ .missing | default \"-\" }} {{ 0 | default 5 }}",
        "- foo - 5",
    );
    check("{{ .app | default \"-\" }}", "api");
}

#[test]
fn from_json() {
    check("{{ (fromJson \"{\\\"foo\\\": 55}\").foo }}", "55");
    check(
        "{{ range $q := fromJson .queries }}[{{ $q.query }}]{{ end }}",
        "[up][rate(x[5m])]",
    );
    check("{{ fromJson \"not json\" }}", "<no value>");
    check("{{ (fromJson .json).list }}", "[1 x true <nil>]");
}

#[test]
fn case_conversions() {
    check(
        "{{ lower \"HeLLo\" }} {{ ToLower \"ABC\" }} {{ upper \"hello\" }} {{ ToUpper \"é\" }}",
        "hello abc HELLO É",
    );
    check(
        "{{ title \"hello world\" }}|{{ Title \"foo-bar_baz 1st\" }}",
        "Hello World|Foo-Bar_baz 1st",
    );
}

#[test]
fn indentation() {
    check("{{ indent 2 \"a\\nb\" }}", "  a\n  b");
    check("{{ nindent 2 \"a\" }}", "\n  a");
    check_err("{{ indent -1 \"a\" }}", "negative Repeat count");
}

#[test]
fn repeat_strings() {
    check(
        "{{ repeat 3 \"hello\" }}|{{ repeat 0 \"x\" }}|",
        "hellohellohello||",
    );
    check_err("{{ repeat -1 \"x\" }}", "negative Repeat count");
}

#[test]
fn replace_both_argument_orders() {
    check(
        "{{ replace \"hello\" \"world\" \"hello world\" }}",
        "world world",
    );
    check("{{ .cluster | replace \"-cluster\" \"\" }}", "prod");
    check(
        "{{ Replace \"aaa\" \"a\" \"b\" 2 }} {{ Replace \"aaa\" \"a\" \"b\" -1 }}",
        "bba bbb",
    );
    check("{{ replace \"\" \"-\" \"ab\" }}", "-a-b-");
}

#[test]
fn substr_clamps() {
    check(
        "{{ substr 0 5 \"hello world\" }}|{{ substr 6 11 \"hello world\" }}|{{ .app | substr 1 2 }}",
        "hello|world|p",
    );
    check(
        "{{ substr -1 3 \"hello\" }}|{{ substr 2 -1 \"hello\" }}|{{ substr 4 2 \"hello\" }}|{{ substr 0 100 \"héllo\" }}",
        "hel|llo||héllo",
    );
    check("{{ substr -5 -1 \"x\" }}|{{ substr 9 10 \"abc\" }}|", "||");
}

#[test]
fn trimming() {
    check(
        "[{{ trim \"  hi  \" }}][{{ TrimSpace \"\\t hi\\n\" }}]",
        "[hi][hi]",
    );
    check(
        "{{ Trim \"xxhixx\" \"x\" }} {{ TrimLeft \"xxhixx\" \"x\" }} {{ TrimRight \"xxhixx\" \"x\" }}",
        "hi hixx xxhi",
    );
    check(
        "{{ TrimPrefix \"prefix-x\" \"prefix-\" }} {{ TrimSuffix \"x.log\" \".log\" }}",
        "x x",
    );
    check(
        "{{ trimAll \"$\" \"$5.00$\" }} {{ .path | trimAll \"/\" }}",
        "5.00 a/b c",
    );
    check(
        "{{ trimPrefix \"-\" \"-hello\" }} {{ trimSuffix \"-\" \"hello-\" }} {{ .path | trimPrefix \"/\" }}",
        "hello hello a/b c",
    );
}

#[test]
fn truncation() {
    check(
        "{{ trunc 5 \"hello world\" }}|{{ trunc -5 \"hello world\" }}|{{ trunc 50 \"hi\" }}|{{ trunc 2 \"héllo\" }}",
        "hello|world|hi|hé",
    );
    check("{{ trunc -9223372036854775808 \"abc\" }}", "abc");
}

#[test]
fn url_encoding() {
    check("{{ urlencode \"a b/c?d=é\" }}", "a+b%2Fc%3Fd%3D%C3%A9");
    check("{{ urldecode \"a+b%2Fc%C3%A9\" }}", "a b/cé");
    check_err("{{ urldecode \"%zz\" }}", "invalid URL escape \"%zz\"");
    check_err("{{ urldecode \"ab%4\" }}", "invalid URL escape \"%4\"");
}

#[test]
fn logic_functions() {
    check(
        "{{ if contains \"he\" \"hello\" }}yes{{ end }} {{ contains \"x\" \"hello\" }}",
        "yes false",
    );
    check(
        "{{ hasPrefix \"he\" \"hello\" }} {{ hasSuffix \"lo\" \"hello\" }} {{ hasSuffix \"he\" \"hello\" }}",
        "true true false",
    );
    check(
        "{{ if and (contains \"he\" \"hello\") (contains \"llo\" \"hello\") }} yes {{end}}",
        " yes ",
    );
    check(
        "{{ if contains \"ErrTimeout\" .app }}timeout{{ else if contains \"a\" .app }}yes{{ else }}no{{ end }}",
        "yes",
    );
}

#[test]
fn integer_maths() {
    check(
        "{{ add 3 2 5 }} {{ add \"1\" \"2\" }} {{ add }} {{ sub 5 2 }} {{ mul 5 2 3 }}",
        "10 3 0 3 30",
    );
    check(
        "{{ div 10 2 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod 10 3 }} {{ mod -7 3 }}",
        "5 3 -3 1 -1",
    );
    check("{{ max 1 2 3 }} {{ min 1 2 3 }} {{ max \"7\" 2 }}", "3 1 7");
    check(
        "{{ div -9223372036854775808 -1 }} {{ add 9223372036854775807 1 }}",
        "-9223372036854775808 -9223372036854775808",
    );
    check_err(
        "{{ div 1 0 }}",
        "error calling div: runtime error: integer divide by zero",
    );
    check_err("{{ mod 1 0 }}", "integer divide by zero");
}

#[test]
fn float_maths() {
    check(
        "{{ addf 3.5 2 5 }} {{ addf 0.1 0.2 }} {{ subf 5.5 2 1.5 }} {{ mulf 5.5 2 2.5 }}",
        "10.5 0.3 2 27.5",
    );
    check(
        "{{ divf 10 2 4 }} {{ divf 1 3 }} {{ divf 10 3 }} {{ mulf 0.1 3 }}",
        "1.25 0.3333333333333333 3.3333333333333335 0.3",
    );
    check(
        "{{ maxf 1 2.5 3 }} {{ minf 1 2.5 3 }} {{ minf 1.5 \"0.5\" }}",
        "3 1 0.5",
    );
    check_err("{{ divf 1 0 }}", "decimal division by 0");
    check_err("{{ addf (float64 \"inf\") }}", "cannot create a Decimal");
}

#[test]
fn rounding_and_conversions() {
    check(
        "{{ ceil 123.001 }} {{ floor 123.9999 }} {{ round 123.555555 3 }} {{ round 123.88571428571 5 .2 }}",
        "124 123 123.556 123.88572",
    );
    check(
        "{{ round 123.88571428571 5 }} {{ round 2.5 0 }}",
        "123.88571 3",
    );
    check(
        "{{ \"3\" | int }} {{ 3.9 | int }} {{ \"12.000\" | int }} {{ \"010\" | int }} {{ \"x\" | int }} {{ true | int }}",
        "3 3 12 8 0 1",
    );
    check(
        "{{ \"3.5\" | float64 }} {{ 2 | float64 }} {{ \"x\" | float64 }}",
        "3.5 2 0",
    );
    check("{{ sub (unixEpoch __timestamp__) \"1679577200\" }}", "15");
}

#[test]
fn regex_functions() {
    check(
        "{{ count \"a|b\" \"abab\" }} {{ count \"o\" \"foo\" }} {{ __line__ | count \"[0-9]\" }}",
        "4 2 3",
    );
    check(
        "{{ regexReplaceAll \"(a*)bc\" \"aabc xbc\" \"${1}X\" }}",
        "aaX xX",
    );
    check(
        "{{ regexReplaceAll \"(?P<w>\\\\w+)@\" \"me@x\" \"$w at \" }}",
        "me at x",
    );
    check(
        "{{ regexReplaceAllLiteral \"(ts=)\" \"ts=1\" \"$1timestamp=\" }}",
        "$1timestamp=1",
    );
    check("{{ regexReplaceAll \"x*\" \"abc\" \"-\" }}", "-a-b-c-");
    check_err(
        "{{ count \"(\" \"x\" }}",
        "error calling count: error parsing regexp",
    );
}
