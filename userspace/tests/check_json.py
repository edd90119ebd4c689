#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks kvmwarden's JSON documents for the unit tests.

  check_json.py schema SCHEMA DOC     DOC is valid against the JSON Schema
  check_json.py values VALUES DOC     every line of VALUES (the statistics
                                      table read through the model, from
                                      kvmw_tests --fixture stat-values) is
                                      found at its name in the stat
                                      document DOC with the same value

Prints what it found wrong. Exit status: 0 when all is well, 1 when not,
77 when python3's jsonschema module is missing (schema only: the test is
then skipped, not passed).
"""
import json
import math
import sys


def schema(schema_path, doc_path):
    try:
        import jsonschema
    except ImportError:
        print("python3 module jsonschema is missing "
              "(Debian package python3-jsonschema)")
        return 77
    with open(schema_path) as f:
        sch = json.load(f)
    with open(doc_path) as f:
        doc = json.load(f)
    cls = jsonschema.validators.validator_for(sch)
    cls.check_schema(sch)
    errors = sorted(cls(sch).iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:20]:
        print("%s: %s" % ("/".join(str(p) for p in e.path) or "(top)",
                          e.message[:300]))
    return 1 if errors else 0


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        # Both printed by the same writer with 3 decimals.
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0005)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def matches(value, got):
    """The model's @value against the document's @got."""
    if got is None:
        # null in the document: nothing known, or nothing measured yet.
        return value is None or value == 0 or value == []
    if isinstance(value, list) and isinstance(got, dict):
        # Node arrays appear as {"node": count} without the zeros.
        want = {str(k): v for k, v in enumerate(value) if v}
        got = {k: v for k, v in got.items() if k != "unknown"}
        return same(want, got)
    if isinstance(value, list) and got and isinstance(got[0], dict):
        # Categories: [{"name", "count"}] in the model's order.
        return same(value, [c["count"] for c in got])
    return same(value, got)


def find(obj, name):
    for part in name.split("."):
        if not isinstance(obj, dict) or part not in obj:
            raise KeyError(name)
        obj = obj[part]
    return obj


def values(values_path, doc_path):
    with open(doc_path) as f:
        doc = json.load(f)
    vms = {vm["vm_id"]: vm for vm in doc["vms"]}
    bad = checked = 0
    names = set()
    with open(values_path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    for v in lines:
        names.add((v["scope"], v["name"]))
        if v["scope"] == "host":
            obj = doc
        else:
            obj = vms[v["vm"]]
            if v["vcpu"] is not None:
                obj = obj["vcpus"][v["vcpu"]]
            if v["reason"] is not None:
                obj = [r for r in obj["reasons"]
                       if r["code"] == v["reason"]][0]
        where = "VM %s vCPU %s reason %s %s" % (v["vm"], v["vcpu"],
                                                 v["reason"], v["name"])
        try:
            got = find(obj, v["name"])
        except KeyError:
            # A whole group is null when its feature is not measured.
            group = v["name"].split(".")[0]
            if not v["measured"] and group in obj and obj[group] is None:
                continue
            print("%s: not in the document" % where)
            bad += 1
            continue
        checked += 1
        if v["measured"] and not matches(v["value"], got):
            print("%s: model %r, document %r" % (where, v["value"], got))
            bad += 1
    if not lines:
        print("no values")
        return 1
    print("%d values of %d statistics checked, %d wrong" %
          (checked, len(names), bad))
    return 1 if bad else 0


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("schema", "values"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if sys.argv[1] == "schema":
        return schema(sys.argv[2], sys.argv[3])
    return values(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    sys.exit(main())
