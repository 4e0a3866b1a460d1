"""Rules the clouds enforce on config values only at `up` time (names, limits, reserved
words, formats, dated lists). Each module is pure: a value in, an explanation out."""
