/**
 * The built-in provider's GraphQL API, `POST /api/graphql` (GitHub
 * Enterprise Server's path): a small part of GitHub's schema (`viewer`,
 * `user`, `repository` and a few of their fields). gh asks
 * `query UserCurrent{viewer{login}}`. Queries are parsed by
 * @0no-co/graphql.web, a spec-compliant parser (graphql-js would read
 * `process.env.NODE_ENV`, an environment variable the CLI may not read);
 * the executor over this tiny schema is below: fields, aliases, arguments
 * and variables, fragments, `@skip`/`@include` and `__typename`.
 * @module
 */
import { callerOf, canReadRepository, scopeHeaders } from "./api.ts";
import { apiError, apiJson } from "./responses.ts";
import { emailOf, nodeId, REPOSITORY_ID } from "./shapes.ts";
import { type DevState, hasScope, type IssuedToken } from "./state.ts";
import type { DevUser } from "./types.ts";

const DOCS = "https://docs.github.com/graphql";

/** The part of GitHub's schema the provider knows: each type's fields and their types. */
const TYPES: Record<string, Record<string, string>> = {
  Query: { viewer: "User!", user: "User", repository: "Repository" },
  User: {
    id: "ID!",
    databaseId: "Int",
    login: "String!",
    name: "String",
    email: "String!",
    url: "URI!",
    avatarUrl: "URI!",
    createdAt: "DateTime!",
    repository: "Repository",
  },
  Repository: {
    id: "ID!",
    databaseId: "Int",
    name: "String!",
    nameWithOwner: "String!",
    owner: "User!",
    isPrivate: "Boolean!",
    visibility: "RepositoryVisibility!",
    url: "URI!",
    description: "String",
    defaultBranchRef: "Ref",
    viewerPermission: "RepositoryPermission",
  },
  Ref: { name: "String!", prefix: "String!" },
};

/**
 * The parts of a parsed document the executor reads, with the spec's node
 * names (graphql.web's own types take their kinds from graphql-js, which is
 * not installed).
 */
declare namespace Ast {
  interface Name {
    value: string;
  }
  type Value =
    | { kind: "Variable"; name: Name }
    | { kind: "IntValue" | "FloatValue" | "StringValue" | "EnumValue"; value: string }
    | { kind: "BooleanValue"; value: boolean }
    | { kind: "NullValue" }
    | { kind: "ListValue"; values: Value[] }
    | { kind: "ObjectValue"; fields: { name: Name; value: Value }[] };
  interface Argument {
    name: Name;
    value: Value;
  }
  interface Directive {
    name: Name;
    arguments?: Argument[];
  }
  interface SelectionSet {
    selections: Selection[];
  }
  type Selection =
    | {
      kind: "Field";
      alias?: Name;
      name: Name;
      arguments?: Argument[];
      directives?: Directive[];
      selectionSet?: SelectionSet;
    }
    | { kind: "FragmentSpread"; name: Name; directives?: Directive[] }
    | {
      kind: "InlineFragment";
      typeCondition?: { name: Name };
      directives?: Directive[];
      selectionSet: SelectionSet;
    };
  interface Operation {
    kind: "OperationDefinition";
    operation: string;
    name?: Name;
    variableDefinitions?: { variable: { name: Name }; defaultValue?: Value }[];
    selectionSet: SelectionSet;
  }
  interface Fragment {
    kind: "FragmentDefinition";
    name: Name;
    typeCondition: { name: Name };
    selectionSet: SelectionSet;
  }
  interface Document {
    definitions: (Operation | Fragment)[];
  }
}

/** A GraphQL error as GitHub answers it. */
interface GraphQLError {
  message: string;
  path?: (string | number)[];
  type?: string;
  extensions?: Record<string, unknown>;
}

/** Answers `POST /api/graphql`. */
export function graphqlEndpoint(
  state: DevState,
): (request: Request, body: string) => Promise<Response> {
  return async (request: Request, body: string): Promise<Response> => {
    if (request.method !== "POST") return apiError(404, "Not Found", { documentationUrl: DOCS });
    const caller = callerOf(state, request);
    if (caller.kind === "anonymous") {
      return apiError(401, "This endpoint requires you to be authenticated.", {
        documentationUrl:
          "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
      });
    }
    if (caller.kind === "refused") {
      return apiError(401, "Bad credentials", { documentationUrl: DOCS });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return apiError(400, "Problems parsing JSON", { documentationUrl: DOCS });
    }
    const { query, variables, operationName } = (payload ?? {}) as Record<string, unknown>;
    const headers = scopeHeaders(caller);
    if (typeof query !== "string") {
      return apiJson(200, {
        errors: [{ message: "A query attribute must be specified and must be a string." }],
      }, headers);
    }
    // Loaded on the first query: nothing else needs the parser.
    const { parse } = await import("npm:@0no-co/graphql.web@^1");
    let document: Ast.Document;
    try {
      document = parse(query) as unknown as Ast.Document;
    } catch (error) {
      return apiJson(200, { errors: [{ message: (error as Error).message }] }, headers);
    }
    const result = execute(document, {
      root: root(state, caller.issued),
      variables: typeof variables === "object" && variables !== null
        ? variables as Record<string, unknown>
        : {},
      operationName: typeof operationName === "string" ? operationName : undefined,
    });
    return apiJson(200, result, headers);
  };
}

/** What {@linkcode execute} runs a document with. */
interface Execution {
  root: Record<string, unknown>;
  variables: Record<string, unknown>;
  operationName?: string;
}

/** Runs a query: `{data}`, `{data, errors}` for failed fields, or `{errors}` for a bad query. */
function execute(document: Ast.Document, execution: Execution): Record<string, unknown> {
  const operations = document.definitions.filter((d): d is Ast.Operation =>
    d.kind === "OperationDefinition"
  );
  const fragments = new Map(
    document.definitions.filter((d): d is Ast.Fragment => d.kind === "FragmentDefinition")
      .map((f) => [f.name.value, f]),
  );
  const operation = execution.operationName === undefined
    ? (operations.length === 1 ? operations[0] : undefined)
    : operations.find((o) => o.name?.value === execution.operationName);
  if (!operation) {
    return {
      errors: [{
        message: execution.operationName === undefined
          ? "An operation name is required when the document has more than one operation"
          : `No operation named "${execution.operationName}"`,
      }],
    };
  }
  if (operation.operation !== "query") {
    return { errors: [{ message: `Schema is not configured for ${operation.operation}s` }] };
  }
  const variables: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    variables[name] = name in execution.variables
      ? execution.variables[name]
      : definition.defaultValue
      ? valueOf(definition.defaultValue, {})
      : null;
  }
  const context = { fragments, variables, errors: [] as GraphQLError[], validating: true };
  // First pass: validate every field against the schema (GitHub answers no data then).
  select("Query", execution.root, operation.selectionSet, [], context);
  if (context.errors.length > 0) return { errors: context.errors };
  context.validating = false;
  const data = select("Query", execution.root, operation.selectionSet, [], context);
  return context.errors.length > 0 ? { data, errors: context.errors } : { data };
}

interface Context {
  fragments: Map<string, Ast.Fragment>;
  variables: Record<string, unknown>;
  errors: GraphQLError[];
  /** Check the query's fields only, without resolving any. */
  validating: boolean;
}

/** The fields of `selectionSet` on a value of `typeName`. */
function select(
  typeName: string,
  value: Record<string, unknown>,
  selectionSet: Ast.SelectionSet,
  path: string[],
  context: Context,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const selection of selectionSet.selections) {
    if (!included(selection, context)) continue;
    if (selection.kind === "FragmentSpread" || selection.kind === "InlineFragment") {
      const fragment = selection.kind === "InlineFragment"
        ? selection
        : context.fragments.get(selection.name.value);
      if (!fragment) {
        const name = selection.kind === "FragmentSpread" ? selection.name.value : "";
        context.errors.push({ message: `Fragment ${name} was used, but not defined` });
        continue;
      }
      const condition = fragment.typeCondition?.name.value;
      if (condition !== undefined && condition !== typeName) continue;
      Object.assign(result, select(typeName, value, fragment.selectionSet, path, context));
      continue;
    }
    const name = selection.name.value;
    const key = selection.alias?.value ?? name;
    if (name === "__typename") {
      result[key] = typeName;
      continue;
    }
    const fieldType = TYPES[typeName][name];
    if (fieldType === undefined) {
      context.errors.push({
        message: `Field '${name}' doesn't exist on type '${typeName}'`,
        path: [...path, key],
        extensions: { code: "undefinedField", typeName, fieldName: name },
      });
      continue;
    }
    const objectType = TYPES[fieldType.replace(/!$/, "")] ? fieldType.replace(/!$/, "") : undefined;
    if (objectType !== undefined && !selection.selectionSet) {
      context.errors.push({
        message:
          `Field must have selections (field '${name}' returns ${objectType} but has no selections. Did you mean '${name} { ... }'?)`,
        path: [...path, key],
        extensions: {
          code: "selectionMismatch",
          nodeName: `field '${name}'`,
          typeName: objectType,
        },
      });
      continue;
    }
    if (context.validating) {
      if (objectType !== undefined) {
        select(objectType, {}, selection.selectionSet!, [...path, key], context);
      }
      continue;
    }
    const args: Record<string, unknown> = {};
    for (const argument of selection.arguments ?? []) {
      args[argument.name.value] = valueOf(argument.value, context.variables);
    }
    let resolved: unknown;
    try {
      const field = value[name];
      resolved = typeof field === "function" ? field(args) : field;
    } catch (error) {
      context.errors.push({
        type: "NOT_FOUND",
        path: [...path, key],
        message: (error as Error).message,
      });
      resolved = null;
    }
    result[key] = objectType !== undefined && resolved !== null && resolved !== undefined
      ? select(
        objectType,
        resolved as Record<string, unknown>,
        selection.selectionSet!,
        [...path, key],
        context,
      )
      : resolved ?? null;
  }
  return result;
}

/** Whether `@skip(if:)` / `@include(if:)` keep a selection. */
function included(selection: Ast.Selection, context: Context): boolean {
  for (const directive of selection.directives ?? []) {
    const condition = directive.arguments?.find((a) => a.name.value === "if");
    const value = condition ? valueOf(condition.value, context.variables) === true : false;
    if (directive.name.value === "skip" && value) return false;
    if (directive.name.value === "include" && !value) return false;
  }
  return true;
}

/** A literal or variable argument's value. */
function valueOf(node: Ast.Value, variables: Record<string, unknown>): unknown {
  switch (node.kind) {
    case "Variable":
      return variables[node.name.value] ?? null;
    case "IntValue":
      return Number.parseInt(node.value, 10);
    case "FloatValue":
      return Number.parseFloat(node.value);
    case "StringValue":
    case "EnumValue":
      return node.value;
    case "BooleanValue":
      return node.value;
    case "NullValue":
      return null;
    case "ListValue":
      return node.values.map((v) => valueOf(v, variables));
    case "ObjectValue":
      return Object.fromEntries(
        node.fields.map((f) => [f.name.value, valueOf(f.value, variables)]),
      );
  }
}

/** The resolvers of {@linkcode TYPES}' `Query` for one token's request. */
function root(state: DevState, issued: IssuedToken): Record<string, unknown> {
  const { owner, name } = state.repository;
  const repository = (ownerLogin: unknown, repoName: unknown) => {
    const isDemo = String(ownerLogin).toLowerCase() === owner.login.toLowerCase() &&
      String(repoName).toLowerCase() === name.toLowerCase();
    if (!isDemo || !canReadRepository(state, issued)) {
      throw new Error(
        `Could not resolve to a Repository with the name '${ownerLogin}/${repoName}'.`,
      );
    }
    return {
      id: nodeId("Repository", REPOSITORY_ID),
      databaseId: REPOSITORY_ID,
      name,
      nameWithOwner: `${owner.login}/${name}`,
      owner: () => user(owner),
      isPrivate: true,
      visibility: "PRIVATE",
      url: `${state.provider.origin}/${owner.login}/${name}`,
      description: "The loopauth dev-server's demo repository",
      defaultBranchRef: { name: "main", prefix: "refs/heads/" },
      viewerPermission: "ADMIN",
    };
  };
  const user = (who: DevUser): Record<string, unknown> => ({
    id: nodeId("User", who.id),
    databaseId: who.id,
    login: who.login,
    name: who.name,
    // As on GitHub: the viewer's email needs user:email (or user); others' are private here.
    email: who.id === issued.user.id && hasScope(issued, "user:email") ? emailOf(who) : "",
    url: `${state.provider.origin}/${who.login}`,
    avatarUrl: `${state.provider.origin}/avatars/u/${who.id}`,
    createdAt: "2011-01-25T18:44:36Z",
    repository: (args: Record<string, unknown>) => repository(who.login, args.name),
  });
  return {
    viewer: () => user(issued.user),
    user: (args: Record<string, unknown>) => {
      const login = String(args.login);
      const known = [issued.user, owner].find((u) => u.login.toLowerCase() === login.toLowerCase());
      if (!known) throw new Error(`Could not resolve to a User with the login of '${login}'.`);
      return user(known);
    },
    repository: (args: Record<string, unknown>) => repository(args.owner, args.name),
  };
}
