//! An in-process simulator of the vendor (feature `sim`), faithful to the documented behaviour, with fault injection.
