import type { Command } from "commander";
import { AgentState } from "../../gen/deerflow/v1/agent_pb.js";
import { ExitCode, printJson } from "../cli-output.js";
import { positiveInteger } from "../key-value.js";
import { printTable, withClients } from "./runs-command.js";

export function registerAgentsCommand(program: Command): void {
  const agents = program
    .command("agents")
    .description("see, cordon and drain agents");
  agents
    .command("ls")
    .description("list connected agents with their labels and slots")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--all", "include disconnected agents", false)
    .option("--json", "print the agents as JSON", false)
    .action((opts) =>
      withClients(opts.server, async (clients) => {
        const { agents: list } = await clients.agents.listAgents({
          includeDisconnected: opts.all,
        });
        if (opts.json) {
          printJson(
            list.map((a) => ({
              id: a.id,
              name: a.name,
              state: AgentState[a.state],
              labels: a.labels,
              slots: a.slots,
              task_types: a.taskTypes.map((t) => t.type),
              leases: a.leaseIds,
            })),
          );
          return ExitCode.ok;
        }
        printTable(
          ["NAME", "ID", "STATE", "SLOTS", "LEASES", "TYPES", "LABELS"],
          list.map((a) => [
            a.name,
            // Enough of the id to tell agents of one name apart.
            a.id.slice(0, 8),
            AgentState[a.state],
            String(a.slots),
            String(a.leaseIds.length),
            a.taskTypes.map((t) => t.type).join(","),
            Object.entries(a.labels)
              .filter(([k]) => !k.includes("/"))
              .map(([k, v]) => `${k}=${v}`)
              .join(" "),
          ]),
        );
        return ExitCode.ok;
      }),
    );
  for (const [name, description] of [
    ["cordon", "stop assigning new tasks to an agent; running attempts go on"],
    ["uncordon", "let a cordoned agent take tasks again"],
  ] as const) {
    agents
      .command(name)
      .description(description)
      .argument("<agent>", "the agent's name, id, or id prefix (8+ characters)")
      .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
      .action((ref: string, opts) =>
        withClients(opts.server, async (clients) => {
          const request = { agent: ref };
          const { agent } =
            name === "cordon"
              ? await clients.agents.cordonAgent(request)
              : await clients.agents.uncordonAgent(request);
          process.stdout.write(
            `agent ${agent?.name ?? ref}: ${agent ? AgentState[agent.state] : "?"}\n`,
          );
          return ExitCode.ok;
        }),
      );
  }
  agents
    .command("drain")
    .description(
      "cordon an agent and have it finish its attempts, then disconnect",
    )
    .argument("<agent>", "the agent's name, id, or id prefix (8+ characters)")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option(
      "--grace-ms <ms>",
      "how long running attempts may finish",
      positiveInteger("--grace-ms"),
      30_000,
    )
    .action((ref: string, opts) =>
      withClients(opts.server, async (clients) => {
        const { agent } = await clients.agents.drainAgent({
          agent: ref,
          gracePeriodMs: opts.graceMs,
        });
        process.stdout.write(
          `agent ${agent?.name ?? ref}: ${agent ? AgentState[agent.state] : "?"}\n`,
        );
        return ExitCode.ok;
      }),
    );
}
