//! Generated jobs compared with what the Operator writes for the same objects (written out by hand from
//! `promcfg.go` and the reference), and checked against the relabel parser.
