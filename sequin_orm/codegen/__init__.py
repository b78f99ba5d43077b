"""Model code generation: collection schemas in, typed ``Model`` modules out.

- ``schema``: the schema format (``GET /v1/collections/{credential_id}`` items), loaded and
  validated into attrs classes;
- ``generator``: schema -> module text, pure and deterministic;
- ``infer``: a schema from sample records;
- ``cli``: ``sequin-orm generate``; ``regenerate``: the bundled models.

The bundled schemas live in ``sequin_orm/codegen/schemas/`` (see the README there).
"""

from __future__ import annotations

from sequin_orm.codegen.generator import generate_init, generate_module, schema_sha256
from sequin_orm.codegen.infer import infer_schema, records_from_json
from sequin_orm.codegen.schema import (
    CollectionSchema,
    FieldMetadata,
    FieldSchema,
    ProviderSchema,
    SchemaError,
    load_schema,
    parse_schema,
)

__all__ = [
    "CollectionSchema",
    "FieldMetadata",
    "FieldSchema",
    "ProviderSchema",
    "SchemaError",
    "generate_init",
    "generate_module",
    "infer_schema",
    "load_schema",
    "parse_schema",
    "records_from_json",
    "schema_sha256",
]
