import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { mediaTypeOf, type HttpRequest } from './http';
import type { Observable } from 'rxjs';
import { invalidFields } from './validation-errors';

/**
 * The admin API speaks JSON: a body in another media type is 415, a JSON body that is not an object
 * (an array, say) is 400, and no body at all is an empty object. Runs after the guards, before the pipes.
 */
@Injectable()
export class JsonObjectBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && req.headers['content-type'] !== undefined && mediaTypeOf(req) !== 'application/json')
      throw new UnsupportedMediaTypeException({
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: 'the body must be application/json',
      });
    if (req.body === undefined || req.body === null) req.body = {};
    if (typeof req.body !== 'object' || Array.isArray(req.body))
      throw invalidFields({ body: ['the body must be a JSON object'] });
    return next.handle();
  }
}
