import sys, time, torch
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
opt_name = sys.argv[2] if len(sys.argv) > 2 else "sgd"
torch.manual_seed(0)
sizes = [784, 500, 250, 100, 10]
layers = []
for i, o in zip(sizes, sizes[1:]):
    lin = torch.nn.Linear(i, o)
    torch.nn.init.xavier_uniform_(lin.weight); torch.nn.init.zeros_(lin.bias)
    layers += [lin, torch.nn.ReLU()]
net = torch.nn.Sequential(*layers[:-1])
x = torch.rand(60000, 784); y = torch.randint(0, 10, (60000,))
opt = torch.optim.SGD(net.parameters(), lr=0.01) if opt_name == "sgd" else torch.optim.Adam(net.parameters(), lr=1e-3)
lossf = torch.nn.CrossEntropyLoss()
def epoch():
    for s in range(0, 60000, 64):
        xb, yb = x[s:s+64], y[s:s+64]
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(xb), yb)
        loss.backward()
        opt.step()
epoch()
for r in range(3):
    t = time.perf_counter(); epoch(); print(f"torch {opt_name} threads={torch.get_num_threads()} epoch {time.perf_counter()-t:.3f} s", flush=True)
