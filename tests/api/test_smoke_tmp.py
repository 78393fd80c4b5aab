def test_smoke(sqlite_world):
    w = sqlite_world
    r = w.client.get("/health"); assert r.status_code == 200
    r = w.client.get("/me", headers=w.h("inst_a")); print(r.json()); assert r.status_code == 200
    r = w.client.get("/classes"); print(r.status_code, r.headers, r.json())
    r = w.client.get("/flags", headers=w.h("inst_a")); print(r.status_code, r.json())
    r = w.client.get("/flags", headers=w.h("inspector")); print(r.status_code, r.json())
