"""Offline schema validation for deploy-check (run by its tests from target/deploy-venv).

usage: validate.py k8s <kubernetes-version> FILE...   (kubernetes-validate, strict)
       validate.py compose <compose_spec.json> FILE...  (jsonschema, Draft 7)
Prints one line per problem as `FILE: path.to.field: message`; exit 1 if any.
"""
import json
import sys

import yaml


def k8s(version, files):
    import kubernetes_validate

    bad = 0
    for f in files:
        with open(f) as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d is not None]
        for i, doc in enumerate(docs):
            kind = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path) or "<root>"
                print(f"{f}: document {i} ({kind}): {path}: {e.message}")
                bad += 1
            except Exception as e:  # unknown kind/version, schema missing
                print(f"{f}: document {i} ({kind}): {e}")
                bad += 1
    return bad


def compose(schema_file, files):
    import jsonschema

    with open(schema_file) as fh:
        schema = json.load(fh)
    validator = jsonschema.Draft7Validator(schema)
    bad = 0
    for f in files:
        with open(f) as fh:
            doc = yaml.safe_load(fh)
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            path = ".".join(str(p) for p in e.path) or "<root>"
            print(f"{f}: {path}: {e.message}")
            bad += 1
    return bad


def main():
    mode, arg, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    bad = k8s(arg, files) if mode == "k8s" else compose(arg, files)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
