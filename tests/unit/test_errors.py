"""UnknownNameError's one line: the nearest names, else the known ones, else that there are none."""

from truecost.errors import UnknownNameError


def test_close_names_are_offered_first():
    # similarity 2·4/12 = 0.67 for h100-sxm, 2·4/13 = 0.62 for h100-pcie, 0 for l4: closest first
    e = UnknownNameError("GPU", "h100", ["l4", "h100-pcie", "h100-sxm"])
    assert str(e) == "unknown GPU 'h100'; did you mean h100-sxm, h100-pcie?"


def test_with_nothing_close_the_known_names_are_listed_under_their_plural():
    assert str(UnknownNameError("grid intensity", "zz", ["us", "eu"])) == \
        "unknown grid intensity 'zz'; known grid intensities: eu, us"
    assert str(UnknownNameError("R&D share", "zz", ["low"])) == "unknown R&D share 'zz'; known R&D shares: low"
    assert str(UnknownNameError("price basis", "zz", ["rent"])) == "unknown price basis 'zz'; known price bases: rent"
    assert str(UnknownNameError("key", "zz", ["a"])) == "unknown key 'zz'; known keys: a"  # a vowel before y
    many = [f"m{i}" for i in range(10)]
    assert str(UnknownNameError("model", "zz", many)) == \
        "unknown model 'zz'; known models: m0, m1, m2, m3, m4, m5, m6, m7, ..."


def test_an_empty_catalog_says_so():
    assert str(UnknownNameError("run", "r1", [])) == "unknown run 'r1'; there are no runs yet"
    assert str(UnknownNameError("grid intensity", "x", [])) == \
        "unknown grid intensity 'x'; there are no grid intensities yet"
