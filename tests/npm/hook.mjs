/* hook.mjs - module loader hook that lets Node 18 and 20 import qasm-ts 2.1.4.
 * Its dist/ is ES module code with extension-less relative imports
 * ("./lexer") and no "type": "module" in its package.json; Node's ESM
 * resolver wants full file names, and Node 18 would load the .js files as
 * CommonJS. Use: node --experimental-loader ./hook.mjs script.mjs
 */

/* Retry a relative import that failed with ".js", then "/index.js". */
export async function resolve(specifier, context, nextResolve)
{
	try {
		return await nextResolve(specifier, context);
	} catch (e) {
		const relative = specifier.startsWith("./") || specifier.startsWith("../");
		if (!relative || (e.code !== "ERR_MODULE_NOT_FOUND" && e.code !== "ERR_UNSUPPORTED_DIR_IMPORT"))
			throw e;
		for (const suffix of [".js", "/index.js"]) {
			try {
				return await nextResolve(specifier + suffix, context);
			} catch {
				/* try the next one */
			}
		}
		throw e;
	}
}

/* qasm-ts's files are ES modules whatever their package.json says. */
export async function load(url, context, nextLoad)
{
	if (/\/node_modules\/qasm-ts\/dist\/.*\.js$/.test(url))
		return nextLoad(url, { ...context, format: "module" });
	return nextLoad(url, context);
}
