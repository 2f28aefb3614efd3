import { apiList } from "../kafka-api.js";
import {
  consumerGroupDescribeApi,
  deleteGroupsApi,
  describeGroupsApi,
  listGroupsApi,
} from "./group-admin-apis.js";
import { offsetCommitApi, offsetDeleteApi, offsetFetchApi } from "./offset-apis.js";

/** The group APIs that are not membership: offsets, and listing, describing and deleting groups. */
export const groupOffsetApis = apiList(
  offsetCommitApi,
  offsetFetchApi,
  offsetDeleteApi,
  listGroupsApi,
  describeGroupsApi,
  consumerGroupDescribeApi,
  deleteGroupsApi,
);
