/** The parameters of a form-encoded protocol request: one string per name; empty values are absent. */
export type FormParams = Readonly<Record<string, string | undefined>>;
