// A CustomAgent that only stands at the front: a test reaches the running instance (`Front.self`, set by setup())
// to use its `this.peers` as an agent of the mesh would.
import { CustomAgent } from '../../src/index.js';

export interface FrontAgentClass {
  new (): CustomAgent;
  role: string;
  description: string;
  /** The instance the mesh runs, once started. */
  self: CustomAgent | null;
}

export function frontAgent(role: string, description: string): FrontAgentClass {
  return class Front extends CustomAgent {
    static override role = role;
    static override description = description;
    static self: CustomAgent | null = null;
    override async setup() {
      Front.self = this;
    }
  };
}

/** The running instance of `Front`; fails the test when the mesh has not started it. */
export function running(Front: FrontAgentClass): CustomAgent {
  if (Front.self === null) throw new Error(`Agent "${Front.role}" is not running: start its mesh first.`);
  return Front.self;
}
