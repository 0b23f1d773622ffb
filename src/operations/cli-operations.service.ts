import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { CLI_COMMAND, CliError } from './cli-command.decorator';

type Handler = (options: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** Finds every @CliCommand method of the application's providers and runs them by name. */
@Injectable()
export class CliOperations implements OnModuleInit {
  private readonly handlers = new Map<string, Handler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isNotMetatype) continue;
      const prototype = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const name = this.reflector.get<string>(CLI_COMMAND, prototype[method]);
        if (name) this.handlers.set(name, (options) => (instance[method] as Handler).call(instance, options));
      }
    }
  }

  names(): string[] {
    return [...this.handlers.keys()].sort();
  }

  async execute(name: string, options: Record<string, unknown>): Promise<Record<string, unknown>> {
    const handler = this.handlers.get(name);
    if (!handler) throw new CliError(`unknown command ${name}`);
    return handler(options);
  }
}
