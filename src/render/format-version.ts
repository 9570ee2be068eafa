/**
 * The version of every JSON document the CLI writes (`formatVersion`): raised when their shape changes, i.e. when
 * schema/output.schema.json accepts something else. `npm run schema` records each version's shape in
 * schema/output.versions.json and refuses a new shape under a version already recorded (docs/json-output.md).
 */
export const JSON_FORMAT_VERSION = 4;
