// Node's resolver wants file extensions in ES module imports; shipstation-node's dist/ (built for
// bundlers) has none. Try the specifier as given, then with ".js", then as a folder's index.js.
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const missing = ['ERR_MODULE_NOT_FOUND', 'ERR_UNSUPPORTED_DIR_IMPORT'].includes(error.code);
    if (!missing || !(specifier.startsWith('./') || specifier.startsWith('../'))) throw error;
    try {
      return await next(`${specifier}.js`, context);
    } catch {
      return next(`${specifier}/index.js`, context);
    }
  }
}
