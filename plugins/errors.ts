import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { auditReason, dockerErrorBody } from '../src/errors'

/**
 * Every error leaves the gateway in Docker's shape, `{"message": "..."}`,
 * so clients written against dockerd print it as they print the daemon's own
 * errors. The Content-Type is exactly `application/json`, without a charset:
 * the Go client only reads the message out of an error body whose type
 * compares equal to that string (client/request.go checkResponseErr), and
 * otherwise prints the raw JSON. 5xx details of unexpected failures are
 * logged, not sent.
 */
async function dockerErrors (fastify: FastifyInstance, opts: { bodyLimit: number }): Promise<void> {
  fastify.setNotFoundHandler((request, reply) => {
    request.gw.decision = 'deny'
    request.gw.reason = 'not in allow-list'
    void reply.code(404).header('content-type', 'application/json').send(dockerErrorBody('page not found'))
  })

  fastify.setErrorHandler((err: FastifyError, request, reply) => {
    let status = err.statusCode ?? 500
    let message = err.message
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        message = `request body is larger than ${opts.bodyLimit} bytes`
        break
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        status = 415
        message = 'unsupported or malformed Content-Type'
        break
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        status = 400
        message = 'request body is empty'
        break
    }
    if (status >= 500 && err.code?.startsWith('DGW_') !== true) {
      request.log.error({ err }, 'unexpected error')
      message = 'internal error in docker-gateway'
    }
    if (request.gw !== null) {
      request.gw.decision = 'deny'
      // A step that knows more (a volume claim, a filter) has said it; else the error's cause.
      if (request.gw.reason === undefined) request.gw.reason = status >= 500 && err.code?.startsWith('DGW_') !== true ? message : auditReason(err)
    }
    void reply.code(status).header('content-type', 'application/json').send(dockerErrorBody(message))
  })
}

export default fp(dockerErrors, { name: 'docker-gateway-errors', fastify: '5.x' })
