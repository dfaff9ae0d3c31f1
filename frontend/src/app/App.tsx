import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter, RouterProvider, type RouteObject } from "react-router";
import { ApiError } from "../api/client";
import { I18nProvider } from "../i18n/i18n";
import { screens } from "./screens";
import { meQuery } from "./session";
import { Guard, Home, Layout, NotFound, RouteError } from "./Shell";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not get better by asking again; a flaky link might.
      retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
      staleTime: 30_000,
      refetchOnWindowFocus: false,
    },
  },
});

// Ask who is signed in at once, while the first screen's code is still on
// its way (the router loads it before rendering anything): on a slow link
// that saves a whole round trip before the first list appears.
void queryClient.prefetchQuery(meQuery);

const children: RouteObject[] = [
  { index: true, Component: Home },
  ...screens.map(
    (s): RouteObject => ({
      path: s.path,
      lazy: async () => {
        const Screen = await s.load();
        return {
          Component: () => (
            <Guard capability={s.capability}>
              <Screen />
            </Guard>
          ),
        };
      },
    }),
  ),
  { path: "*", Component: NotFound },
];

const router = createBrowserRouter([
  {
    path: "/signed-out",
    lazy: async () => ({ Component: (await import("../screens/SignedOut")).SignedOut }),
  },
  { path: "/", Component: Layout, ErrorBoundary: RouteError, children },
]);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <RouterProvider router={router} />
      </I18nProvider>
    </QueryClientProvider>
  );
}
