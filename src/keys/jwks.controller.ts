import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { KeyStore } from './key-store.service';

@ApiTags('oauth')
@Controller('oauth')
export class JwksController {
  constructor(private readonly keys: KeyStore) {}

  /** RFC 7517 JWK Set of the public signing keys (current and not yet expired). */
  @Get('jwks')
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Cache-Control', 'public, max-age=60')
  @Header('Content-Type', 'application/jwk-set+json')
  @ApiOkResponse({ description: 'JWK Set (public members only)' })
  jwks() {
    return this.keys.jwks();
  }
}
