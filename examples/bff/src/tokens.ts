export const EXAMPLE_CONFIG = Symbol('EXAMPLE_CONFIG');
