"""libtorch's epoch of the network `cargo bench -p scratch` times, for a side-by-side figure.

784-500-250-100-10, ReLU, Xavier-uniform weights, zero biases, batch 64, 60 000 images of
uniform random pixels and labels, float32; one warm-up epoch, then three timed ones.
Run with the PyTorch that scripts/setup installs, right after the Rust benchmark:
    ~/.cache/mnist-scratch-vs-torch/torch-2.13.0/bin/python benches/torch_epoch.py [THREADS] [sgd|adam]
"""
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
optimizer = sys.argv[2] if len(sys.argv) > 2 else "sgd"
torch.set_num_threads(threads)
torch.manual_seed(0)

sizes = [784, 500, 250, 100, 10]
layers = []
for fan_in, fan_out in zip(sizes, sizes[1:]):
    linear = torch.nn.Linear(fan_in, fan_out)
    torch.nn.init.xavier_uniform_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    layers += [linear, torch.nn.ReLU()]
net = torch.nn.Sequential(*layers[:-1])

images = torch.rand(60000, 784)
labels = torch.randint(0, 10, (60000,))
if optimizer == "sgd":
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
else:
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()


def epoch():
    for start in range(0, 60000, 64):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(images[start:start + 64]), labels[start:start + 64])
        loss.backward()
        opt.step()


epoch()
for _ in range(3):
    start = time.perf_counter()
    epoch()
    print(f"torch {optimizer} threads={torch.get_num_threads()} epoch {time.perf_counter() - start:.3f} s", flush=True)
