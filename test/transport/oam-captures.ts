/** What oam-wire.md captured from OpenAgentMesh main and the tests compare against, written once. */

/** `details.errors` of peer.add (`{a: int, b: int}`) given `{"a": "x"}` (§6). */
export const ADD_X_ERRORS = [
  {
    type: 'int_parsing',
    loc: ['a'],
    msg: 'Input should be a valid integer, unable to parse string as an integer',
    input: 'x',
  },
  { type: 'missing', loc: ['b'], msg: 'Field required', input: { a: 'x' } },
];

/** The whole `invalid_input` envelope of that request. */
export function addXEnvelope(requestId: string) {
  return {
    code: 'invalid_input',
    message: "Input failed validation for agent 'peer.add'",
    agent: 'peer.add',
    request_id: requestId,
    details: { errors: ADD_X_ERRORS },
  };
}
