/** The version of every JSON document the CLI writes (`formatVersion`); raised when their shape changes. */
export const JSON_FORMAT_VERSION = 1;
