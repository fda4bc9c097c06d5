//! printf, print and println against Go's fmt output.

use super::check;

#[test]
fn printf_basic_verbs() {
    check(
        "{{ printf \"%s|%d|%v|%t|%%\" \"x\" 42 1.5 true }}",
        "x|42|1.5|true|%",
    );
    check(
        "{{ printf \"The IP address was %s\" \"129.168.1.1\" }}",
        "The IP address was 129.168.1.1",
    );
    check(
        "{{ printf \"%v %v %v\" .list .nums .nested }}",
        "[a b c] [1 2] map[inner:map[leaf:deep]]",
    );
    check(
        "{{ printf \"%s\" __timestamp__ }}",
        "2023-03-23 13:13:35.123456789 +0000 UTC",
    );
}

#[test]
fn printf_integers() {
    check(
        "{{ printf \"%05d|%+d|% d|%-6d|%6.3d|%+05d\" 42 5 5 7 7 7 }}",
        "00042|+5| 5|7     |   007|+0007",
    );
    check(
        "{{ printf \"%x|%X|%#x|%#08x|%x\" 255 255 255 255 -255 }}",
        "ff|FF|0xff|0x000000ff|-ff",
    );
    check(
        "{{ printf \"%o|%#o|%O|%b|%#b\" 8 8 8 5 5 }}",
        "10|010|0o10|101|0b101",
    );
    check(
        "{{ printf \"%c|%q|%U|%#U|%c\" 65 65 128512 65 -1 }}",
        "A|'A'|U+1F600|U+0041 'A'|\u{fffd}",
    );
    check("{{ printf \"[%.0d]%.3d\" 0 7 }}", "[]007");
}

#[test]
fn printf_floats() {
    check(
        "{{ printf \"%.2f|%8.3f|%-8.2f|\" 3.14159 3.14159 3.14159 }}",
        "3.14|   3.142|3.14    |",
    );
    check(
        "{{ printf \"%e|%E|%g|%.3g\" 1234.5678 1234.5678 1234.5678 1234.5678 }}",
        "1.234568e+03|1.234568E+03|1234.5678|1.23e+03",
    );
    check(
        "{{ printf \"%g|%g|%g|%.3g|%G\" 1e21 100000.0 1e6 100.0 1e-7 }}",
        "1e+21|100000|1e+06|100|1E-07",
    );
    check("{{ printf \"%f\" 1e21 }}", "1000000000000000000000.000000");
    check(
        "{{ printf \"%6.2f|%05.1f|%+.1f|%08.3f\" -1.5 -1.5 2.0 -3.14159 }}",
        " -1.50|-01.5|+2.0|-003.142",
    );
    // Ties round to even, as Go's strconv does.
    check(
        "{{ printf \"%.1f|%.0f|%.2f\" 0.25 2.5 0.125 }}",
        "0.2|2|0.12",
    );
    check(
        "{{ printf \"%f|%5.1f|%v\" (float64 \"inf\") (float64 \"NaN\") (float64 \"-inf\") }}",
        "+Inf|  NaN|-Inf",
    );
    check("{{ printf \"%.2f\" 3 }}", "%!f(int=3)");
}

#[test]
fn printf_strings() {
    check(
        "{{ printf \"%5s|%-5s|%05s\" \"ab\" \"ab\" \"ab\" }}",
        "   ab|ab   |000ab",
    );
    check(
        "{{ printf \"%.2s|%5.1s|%5s|\" \"hello\" \"abc\" \"é\" }}",
        "he|    a|    é|",
    );
    check(
        "{{ printf \"%q|%#q|%+q|%-5q|\" \"a\\\"b\\n\" \"ab\" \"é\" \"a\" }}",
        "\"a\\\"b\\n\"|`ab`|\"\\u00e9\"|\"a\"  |",
    );
    check(
        "{{ printf \"%x|%X|% x|%#x\" \"hi\" \"hi\" \"hi\" \"hi\" }}",
        "6869|6869|68 69|0x6869",
    );
    check("{{ printf \"%q\" \"\\x01\\u00a0\" }}", "\"\\x01\\u00a0\"");
    check(
        "{{ printf \"%-10.10s|\" \"/a/509965767/alternative\" }}",
        "/a/5099657|",
    );
    check("{{ printf \"%15.15s\" \"short\" }}", "          short");
}

#[test]
fn printf_reports_mistakes_in_band() {
    check("{{ printf \"%d\" \"x\" }}", "%!d(string=x)");
    check("{{ printf \"%s\" 5 }}", "%!s(int=5)");
    check("{{ printf \"%d\" true }}", "%!d(bool=true)");
    check("{{ printf \"%d\" 1.5 }}", "%!d(float64=1.5)");
    check("{{ printf \"%s %s\" \"a\" }}", "a %!s(MISSING)");
    check(
        "{{ printf \"%s\" \"a\" 1 \"b\" }}",
        "a%!(EXTRA int=1, string=b)",
    );
    check("{{ printf \"abc%\" }}", "abc%!(NOVERB)");
    check("{{ printf \"%z\" 1 }}", "%!z(int=1)");
    check("{{ printf \"%s|%v\" nil nil }}", "%!s(<nil>)|<nil>");
    check(
        "{{ printf \"%d\" __timestamp__ }}",
        "%!d(time.Time=2023-03-23 13:13:35.123456789 +0000 UTC)",
    );
}

#[test]
fn printf_types_lists_and_stars() {
    check(
        "{{ printf \"%T %T %T %T %T %T %T %T\" \"s\" 1 1.5 true .list .nested __timestamp__ nil }}",
        "string int float64 bool []interface {} map[string]interface {} time.Time <nil>",
    );
    check(
        "{{ printf \"%d|%03d|%q\" .nums .nums .list }}",
        "[1 2]|[001 002]|[\"a\" \"b\" \"c\"]",
    );
    check(
        "{{ printf \"%*d|%-*d|%*d|%.*f\" 5 42 5 42 -5 42 2 3.14159 }}",
        "   42|42   |42   |3.14",
    );
    check("{{ printf \"%*d\" \"x\" 1 }}", "%!(BADWIDTH)1");
}

#[test]
fn print_and_println() {
    check("{{ print \"a\" 1 2 \"b\" }}", "a1 2b");
    check("{{ print 1.5 true nil }}", "1.5 true <nil>");
    check("{{ print \"a\" \"b\" }}|{{ print }}|", "ab||");
    check("{{ println \"a\" 1 }}", "a 1\n");
}
