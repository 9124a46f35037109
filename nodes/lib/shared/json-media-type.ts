// Whether a Content-Type names JSON: application/json or any application/*+json, parameters
// ignored. Used for requests to callback in and for the replies callback out receives.

export function isJsonMediaType(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return false;
  const type = value.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}
