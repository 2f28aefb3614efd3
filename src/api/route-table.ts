import type { Route } from "./route.js";
import { batchProduceRoute } from "./routes/batch-produce-route.js";
import { fetchRoutes } from "./routes/fetch-routes.js";
import { groupAdminRoutes } from "./routes/group-admin-routes.js";
import { groupHeartbeatRoute } from "./routes/group-heartbeat-route.js";
import { groupOffsetRoutes } from "./routes/group-offset-routes.js";
import { healthRoute } from "./routes/health-route.js";
import { offsetsRoute } from "./routes/offsets-route.js";
import { openApiRoute } from "./routes/openapi-route.js";
import { produceRoute } from "./routes/produce-route.js";
import { multiProduceRoute } from "./routes/multi-produce-route.js";
import { initProducerRoute } from "./routes/producer-routes.js";
import { subscriptionRoutes } from "./routes/subscription-routes.js";
import { topicRoutes } from "./routes/topic-routes.js";

/** Every v1 route; the OpenAPI document lists exactly these. */
export const apiRoutes: readonly Route[] = [
  ...topicRoutes,
  initProducerRoute,
  produceRoute,
  batchProduceRoute,
  multiProduceRoute,
  ...fetchRoutes,
  offsetsRoute,
  groupHeartbeatRoute,
  ...groupOffsetRoutes,
  ...groupAdminRoutes,
  ...subscriptionRoutes,
  healthRoute,
  openApiRoute,
];
